package dev.graft.report;

import dev.graft.data.BadImageException;
import dev.graft.data.ImageDecoder;
import dev.graft.data.ImageFolder;
import dev.graft.data.Preprocessing;
import dev.graft.data.Resample;
import dev.graft.data.RgbImage;
import dev.graft.data.Transforms;
import dev.graft.model.GradCam;
import dev.graft.model.Network;
import dev.graft.model.Predictor;
import dev.graft.train.EpochMetrics;
import dev.graft.train.Evaluation;
import dev.graft.train.FineTuning;
import dev.graft.train.RunConfig;
import dev.graft.util.Json;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * report.html for a training run, self-contained (charts and thumbnails are embedded), opening from disk:
 * curves per epoch, confusion matrix, the test images it got wrong, counts per class, skipped files, the resolved
 * configuration and timing.
 */
public final class HtmlReport {
    static final int GALLERY_MAX = 48;

    private HtmlReport() {
    }

    public static String forRun(FineTuning.Result r, RunConfig cfg) {
        StringBuilder h = new StringBuilder();
        String title = "graft: " + cfg.recipe().mode().label() + " " + r.backbone().architecture().name() + " on " + cfg.data().getFileName();
        h.append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>").append(Html.esc(title)).append("</title>")
                .append(Html.STYLE).append("</head><body>");
        h.append("<h1>").append(Html.esc(title)).append("</h1>");
        h.append(String.format(Locale.ROOT, "<p class=\"big\">test accuracy %s%s</p>", fmt(r.testAcc()),
                (r.testEval() != null && r.classes().size() >= 5 ? " &middot; top-5 " + fmt(r.testEval().topK(5)) : "")
                + (r.ttaEval() != null ? " &middot; with test-time augmentation (" + cfg.tta() + " views) " + fmt(r.ttaEval().accuracy()) : "")));
        if (r.selection() != null) {
            h.append("<p class=\"decision\"><b>Model kept:</b> ").append(Html.esc(r.selection())).append("</p>");
        }
        h.append("<p>").append(r.classes().size()).append(" classes, ").append(r.data().train().size()).append(" training images")
                .append(r.data().validation() != null ? ", " + r.data().validation().size() + " validation" : "")
                .append(", ").append(r.data().test() == null ? 0 : r.data().test().size()).append(" test images; ")
                .append(r.history().stream().filter(e -> e.epoch() > 0).count()).append(" epoch(s) in ")
                .append(Html.esc(seconds(r.seconds()))).append(stages(r.stages())).append(".</p>");
        for (String w : r.warnings()) {
            h.append("<p class=\"warn\">").append(Html.esc(w)).append("</p>");
        }
        if (r.zeroShot() != null) {
            h.append("<p>Source model zero-shot accuracy on the test set: ").append(Html.esc(r.zeroShot())).append("</p>");
        }
        if (r.search() != null) {
            h.append("<h2>Search</h2>").append(search(r.search()));
        }
        h.append("<h2>Curves</h2><div class=\"charts\">").append(curves(r.history())).append("</div>");
        if (r.testEval() != null) {
            h.append("<h2>Confusion matrix (test)</h2>").append(confusion(r.testEval(), r.classes()));
            h.append("<h2>Per class (test)</h2>").append(perClass(r.testEval(), r.classes()));
            h.append("<h2>Most confused (test)</h2>").append(mostConfused(r.testEval(), r.classes()));
            h.append("<h2>Top losses: misclassified test images</h2>").append(gallery(r.testEval(), r.data().test(), r.classes(), r.preprocessing(), r.net()));
        }
        h.append("<h2>Images per class</h2>").append(counts(r));
        h.append(r.check() != null ? CheckSection.section(r.check(), r.preprocessing(), 2) : CheckSection.exactOnly(r.data(), cfg.data()));
        h.append("<h2>Skipped images</h2>");
        var skipped = r.badImages().list();
        if (skipped.isEmpty()) {
            h.append("<p>None: every image was read.</p>");
        } else {
            h.append("<p class=\"warn\">").append(skipped.size()).append(" file(s) could not be used and were skipped.</p><table><tr><th class=l>file</th><th class=l>reason</th></tr>");
            for (var e : skipped) {
                h.append("<tr><td class=l>").append(Html.esc(e.getKey())).append("</td><td class=l>").append(Html.esc(e.getValue())).append("</td></tr>");
            }
            h.append("</table>");
        }
        h.append("<h2>Timing</h2>").append(timing(r.history()));
        h.append("<h2>Configuration</h2><p>").append(Html.esc(cfg.recipe().describe())).append("</p><p>Head: ")
                .append(Html.esc(r.headInit())).append("</p><p>Preprocessing: ").append(Html.esc(r.preprocessing().describe()))
                .append("</p><pre>").append(Html.esc(json(cfg))).append("</pre>");
        h.append("</body></html>\n");
        return h.toString();
    }

    /**
     * The default recipe's search: every candidate (the probe first) with its validation figures, how far it got and
     * its time; validation accuracy per epoch of each (epoch 0: the probe head it started from); the decision and
     * what the winner was given afterwards.
     */
    static String search(dev.graft.train.SearchReport s) {
        StringBuilder h = new StringBuilder("<p>Quality ").append(Html.esc(s.quality()))
                .append(s.timeLimitSeconds() > 0 ? String.format(Locale.ROOT, ", time limit %.0f s", s.timeLimitSeconds()) : "")
                .append(String.format(Locale.ROOT, ", %.0f s in all%s.", s.seconds(), s.timeRanOut() ? "; the time limit cut the search short" : ""))
                .append("</p><table><tr><th class=l>candidate</th><th class=l>status</th><th>validation accuracy</th><th>validation loss</th>"
                        + "<th>epochs</th><th>best epoch</th><th>seconds</th></tr>");
        Map<String, double[][]> curves = new LinkedHashMap<>();
        for (dev.graft.train.SearchReport.Entry e : s.entries()) {
            h.append("<tr><td class=l>").append(Html.esc(e.label())).append("</td><td class=l>").append(Html.esc(e.status()))
                    .append("</td><td>").append(fmt(e.valAccuracy())).append("</td><td>").append(fmt(e.valLoss())).append("</td><td>")
                    .append(e.epochs()).append("</td><td>").append(e.bestEpoch()).append("</td><td>")
                    .append(String.format(Locale.ROOT, "%.0f", e.seconds())).append("</td></tr>");
            if (e.valAccuracyPerEpoch().size() > 1) {
                double[] x = new double[e.valAccuracyPerEpoch().size()];
                double[] y = new double[x.length];
                for (int i = 0; i < x.length; i++) {
                    x[i] = i;
                    y[i] = e.valAccuracyPerEpoch().get(i);
                }
                curves.put(e.label(), new double[][] {x, y});
            }
        }
        h.append("</table><p class=\"decision\">").append(Html.esc(s.decision())).append("</p><p>").append(Html.esc(s.retrain())).append("</p>");
        if (!curves.isEmpty()) {
            h.append("<div class=\"charts\"><img alt=\"validation accuracy per epoch of each candidate\" src=\"")
                    .append(Charts.xyChart("Validation accuracy of the candidates", "epoch (0: the probe head)", "accuracy", curves, false))
                    .append("\"></div>");
        }
        return h.toString();
    }

    /** Loss and accuracy per epoch; epoch 0 is the model before training (the probe head, where the recipe fits one). */
    static String curves(List<EpochMetrics> history) {
        double[] x = history.stream().mapToDouble(EpochMetrics::epoch).toArray();
        Map<String, double[][]> loss = new LinkedHashMap<>();
        loss.put("train loss", new double[][] {x, history.stream().mapToDouble(EpochMetrics::trainLoss).toArray()});
        loss.put("validation loss", new double[][] {x, history.stream().mapToDouble(EpochMetrics::valLoss).toArray()});
        Map<String, double[][]> acc = new LinkedHashMap<>();
        acc.put("train acc", new double[][] {x, history.stream().mapToDouble(EpochMetrics::trainAcc).toArray()});
        acc.put("validation acc", new double[][] {x, history.stream().mapToDouble(EpochMetrics::valAcc).toArray()});
        acc.put("test acc", new double[][] {x, history.stream().mapToDouble(EpochMetrics::testAcc).toArray()});
        return "<img alt=\"loss per epoch\" src=\"" + Charts.xyChart("Loss", "epoch", "mean loss per example", loss, false) + "\">"
                + "<img alt=\"accuracy per epoch\" src=\"" + Charts.xyChart("Accuracy", "epoch", "accuracy", acc, false) + "\">";
    }

    static String confusion(Evaluation e, List<String> classes) {
        int[][] m = e.confusion(classes.size());
        boolean many = classes.size() > 6;
        StringBuilder h = new StringBuilder("<table class=\"cm" + (many ? " many" : "") + "\"><tr><th class=l>true \\ predicted</th>");
        for (String c : classes) {
            h.append(many ? "<th class=\"rot\" title=\"" + Html.esc(c) + "\"><span>" + Html.esc(c) + "</span></th>" : "<th>" + Html.esc(c) + "</th>");
        }
        h.append("<th>recall</th></tr>");
        for (int i = 0; i < classes.size(); i++) {
            h.append("<tr><th class=l>").append(Html.esc(classes.get(i))).append("</th>");
            int row = 0;
            for (int j = 0; j < classes.size(); j++) {
                row += m[i][j];
                h.append("<td class=\"").append(i == j ? "diag" : m[i][j] > 0 ? "off" : "").append("\">").append(m[i][j]).append("</td>");
            }
            h.append("<td>").append(row == 0 ? "-" : fmt((double) m[i][i] / row)).append("</td></tr>");
        }
        return h.append("</table>").toString();
    }

    /** Precision, recall, F1 and support per class, with macro and weighted averages (scikit-learn's report). */
    static String perClass(Evaluation e, List<String> classes) {
        Evaluation.ClassReport rep = e.classReport(classes.size());
        StringBuilder h = new StringBuilder("<table><tr><th class=l>class</th><th>precision</th><th>recall</th><th>F1</th><th>images</th></tr>");
        for (Evaluation.ClassFigures f : rep.classes()) {
            h.append(row(classes.get(f.index()), f));
        }
        h.append(row("macro average", rep.macro())).append(row("weighted average", rep.weighted()));
        return h.append("</table>").toString();
    }

    private static String row(String name, Evaluation.ClassFigures f) {
        return "<tr><td class=l>" + Html.esc(name) + "</td><td>" + fmt(f.precision()) + "</td><td>" + fmt(f.recall()) + "</td><td>"
                + fmt(f.f1()) + "</td><td>" + f.support() + "</td></tr>";
    }

    static String mostConfused(Evaluation e, List<String> classes) {
        List<Evaluation.Confusion> pairs = e.mostConfused(classes.size(), 10);
        if (pairs.isEmpty()) {
            return "<p>None: no test image was taken for another class.</p>";
        }
        StringBuilder h = new StringBuilder("<table><tr><th class=l>true class</th><th class=l>taken for</th><th>images</th></tr>");
        for (Evaluation.Confusion c : pairs) {
            h.append("<tr><td class=l>").append(Html.esc(classes.get(c.actual()))).append("</td><td class=l>")
                    .append(Html.esc(classes.get(c.predicted()))).append("</td><td>").append(c.count()).append("</td></tr>");
        }
        return h.append("</table>").toString();
    }

    static String stages(java.util.Map<String, Double> stages) {
        if (stages.isEmpty()) {
            return "";
        }
        StringBuilder sb = new StringBuilder(" (");
        stages.forEach((k, v) -> sb.append(sb.length() > 2 ? ", " : "").append(Html.esc(k)).append(" ").append(Html.esc(seconds(v))));
        return sb.append(")").toString();
    }

    /** Misclassified images with Grad-CAM overlays for the first ones (the most costly cards to compute). */
    static final int HEAT_MAPS_MAX = 16;

    /**
     * The misclassified test images, highest loss first (fastai's plot_top_losses), each with a Grad-CAM heat map of
     * the predicted class: where the network found the evidence for its mistake.
     */
    static String gallery(Evaluation e, ImageFolder test, List<String> classes, Preprocessing pre, Network net) {
        List<Integer> wrong = new ArrayList<>();
        for (int i = 0; i < e.size(); i++) {
            if (e.predictions()[i] != e.labels()[i]) {
                wrong.add(i);
            }
        }
        if (wrong.isEmpty()) {
            return "<p>None: every test image was classified correctly.</p>";
        }
        wrong.sort((a, b) -> Double.compare(e.lossOf(b), e.lossOf(a)));
        List<Integer> shown = wrong.subList(0, Math.min(GALLERY_MAX, wrong.size()));
        ImageDecoder dec = new ImageDecoder();
        String[] heat = heatMaps(shown.subList(0, Math.min(HEAT_MAPS_MAX, shown.size())), e, test, pre, net, dec);
        StringBuilder h = new StringBuilder("<p>" + wrong.size() + " of " + e.size() + " test images are misclassified"
                + (wrong.size() > GALLERY_MAX ? "; the " + GALLERY_MAX + " with the highest loss" : "") + ", highest loss first"
                + (heat.length > 0 && heat[0] != null ? "; the heat maps (Grad-CAM) show where the network found the evidence for the class it "
                + "predicted, red strongest" : "") + ":</p><div class=\"gallery\">");
        for (int k = 0; k < shown.size(); k++) {
            int i = shown.get(k);
            Path file = test.samples().get(e.samples()[i]).path();
            String src = thumbnail(dec, file, pre);
            h.append("<div class=\"card\">");
            if (src != null) {
                h.append("<img alt=\"").append(Html.esc(file.getFileName())).append("\" src=\"").append(src).append("\">");
            }
            if (k < heat.length && heat[k] != null) {
                h.append("<img class=\"heat\" alt=\"Grad-CAM of ").append(Html.esc(classes.get(e.predictions()[i]))).append(" on ")
                        .append(Html.esc(file.getFileName())).append("\" src=\"").append(heat[k]).append("\">");
            }
            h.append("<div>").append(Html.esc(file.getFileName())).append("</div><div>true: <b>").append(Html.esc(classes.get(e.labels()[i])))
                    .append("</b></div><div>predicted: <b>").append(Html.esc(classes.get(e.predictions()[i]))).append("</b> (")
                    .append(String.format(Locale.ROOT, "%.0f%%", 100 * e.probabilities()[i][e.predictions()[i]])).append(")</div>")
                    .append(String.format(Locale.ROOT, "<div>loss %.2f</div>", e.lossOf(i))).append("</div>");
        }
        return h.append("</div>").toString();
    }

    /** Grad-CAM overlays (PNG data URIs, 160 px) of the predicted class; null where the image or the network does not allow one. */
    static String[] heatMaps(List<Integer> rows, Evaluation e, ImageFolder test, Preprocessing pre, Network net, ImageDecoder dec) {
        String[] out = new String[rows.size()];
        if (net == null || !GradCam.supports(net) || rows.isEmpty()) {
            return out;
        }
        List<RgbImage> images = new ArrayList<>();
        List<Integer> at = new ArrayList<>();
        for (int k = 0; k < rows.size(); k++) {
            try {
                images.add(dec.decode(test.samples().get(e.samples()[rows.get(k)]).path()));
                at.add(k);
            } catch (BadImageException ex) {
                // no thumbnail either; the card says the rest
            }
        }
        if (images.isEmpty()) {
            return out;
        }
        int[] targets = at.stream().mapToInt(k -> e.predictions()[rows.get(k)]).toArray();
        try (Predictor p = new Predictor(net, pre)) {
            GradCam.Heat[] maps = p.explain(images, targets);
            for (int j = 0; j < maps.length; j++) {
                RgbImage small = Resample.resize(p.crop(images.get(j)), 160, 160);
                out[at.get(j)] = HeatMaps.dataUri(HeatMaps.overlay(small, maps[j]));
            }
        }
        return out;
    }

    /** The image as the model saw it at test time, as a small JPEG data URI. */
    static String thumbnail(ImageDecoder dec, Path file, Preprocessing pre) {
        try {
            RgbImage img = Transforms.resizeCenterCrop(dec.decode(file), pre);
            img = Resample.resize(img, 160, 160);
            BufferedImage bi = new BufferedImage(img.width(), img.height(), BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < img.height(); y++) {
                for (int x = 0; x < img.width(); x++) {
                    bi.setRGB(x, y, (img.get(x, y, 0) << 16) | (img.get(x, y, 1) << 8) | img.get(x, y, 2));
                }
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(bi, "jpg", out);
            return "data:image/jpeg;base64," + Base64.getEncoder().encodeToString(out.toByteArray());
        } catch (BadImageException | IOException e) {
            return null;
        }
    }

    static String counts(FineTuning.Result r) {
        int[] train = r.data().train().countPerClass();
        int[] val = r.data().validation() == null ? null : r.data().validation().countPerClass();
        int[] test = r.data().test() == null ? null : r.data().test().countPerClass();
        StringBuilder h = new StringBuilder("<table><tr><th class=l>class</th><th>train</th>");
        if (val != null) {
            h.append("<th>validation</th>");
        }
        h.append("<th>test</th></tr>");
        int min = Integer.MAX_VALUE;
        int max = 0;
        for (int c = 0; c < r.classes().size(); c++) {
            min = Math.min(min, train[c]);
            max = Math.max(max, train[c]);
            h.append("<tr><td class=l>").append(Html.esc(r.classes().get(c))).append("</td><td>").append(train[c]).append("</td>");
            if (val != null) {
                h.append("<td>").append(val[c]).append("</td>");
            }
            h.append("<td>").append(test == null ? "-" : test[c]).append("</td></tr>");
        }
        h.append("</table>");
        if (min > 0 && max > 3L * min || min == 0) {
            h.append("<p class=\"warn\">The training classes are imbalanced beyond 1:3 (smallest ").append(min).append(", largest ")
                    .append(max).append(" images): accuracy can hide a class the model ignores; look at the confusion matrix.</p>");
        }
        return h.toString();
    }

    static String timing(List<EpochMetrics> history) {
        StringBuilder h = new StringBuilder("<table><tr><th>epoch</th><th>seconds</th><th>train examples/s</th><th>waiting for data (s)</th><th>test examples/s</th><th>lr</th></tr>");
        for (EpochMetrics m : history) {
            h.append(String.format(Locale.ROOT, "<tr><td>%d</td><td>%.1f</td><td>%.1f</td><td>%.1f</td><td>%s</td><td>%.3g</td></tr>",
                    m.epoch(), m.seconds(), m.examplesPerSec(), m.dataWaitSeconds(),
                    Double.isNaN(m.testExamplesPerSec()) ? "-" : String.format(Locale.ROOT, "%.1f", m.testExamplesPerSec()), m.lr()));
        }
        return h.append("</table>").toString();
    }

    static String json(Object o) {
        return Json.pretty(o);
    }

    static String fmt(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.4f", v);
    }

    static String seconds(double s) {
        return s >= 120 ? String.format(Locale.ROOT, "%.1f min", s / 60) : String.format(Locale.ROOT, "%.0f s", s);
    }
}
