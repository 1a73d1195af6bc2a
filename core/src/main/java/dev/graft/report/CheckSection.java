package dev.graft.report;

import dev.graft.check.CheckInput;
import dev.graft.check.CheckResult;
import dev.graft.check.Confusions;
import dev.graft.check.Duplicates;
import dev.graft.check.LabelIssues;
import dev.graft.check.Outliers;
import dev.graft.data.DataSplits;
import dev.graft.data.ImageDecoder;
import dev.graft.data.Preprocessing;
import dev.graft.data.SameImages;
import dev.graft.train.DataCheckRun;
import dev.graft.train.RunConfig;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The data check in HTML: likely label errors, duplicates (train/test leaks first), outliers and the most confused
 * class pairs, each as a gallery of thumbnails as the model saw the images. The same section opens graft check's
 * check.html and sits in every training report whose run computed the source features.
 */
public final class CheckSection {
    static final int LABELS_MAX = 48;
    static final int PAIRS_MAX = 24;
    static final int OUTLIERS_MAX = 24;
    static final int CONFUSED_WITH_EXAMPLES = 5;
    static final String STYLE = "<style>.card.pair{width:340px}.card.pair img{width:160px;display:inline-block;margin:0 2px}"
            + ".card.flag{border-color:#e6c35c}</style>";

    private CheckSection() {
    }

    /** graft check's page: the findings, what was checked, skipped images, the stages' seconds and the files written. */
    public static String page(DataCheckRun.Outcome o, RunConfig cfg) {
        CheckResult r = o.result();
        StringBuilder h = new StringBuilder();
        String title = "graft check: " + cfg.data().getFileName() + " with " + o.source().architecture().name();
        h.append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>").append(Html.esc(title)).append("</title>")
                .append(Html.STYLE).append("</head><body><h1>").append(Html.esc(title)).append("</h1>");
        h.append("<p>").append(Html.esc(cfg.source().describe())).append("; features of ").append(Html.esc(o.source().architecture().name()))
                .append(" from ").append(Html.esc(o.source().source())).append(" (").append(Html.esc(o.preprocessing().describe())).append(").</p>");
        h.append("<p>Nothing was moved, renamed or deleted. <code>suggestions.csv</code> beside this page lists every image in the "
                + "<code>--labels</code> format, flagged ones first: change a label to relabel, write <code>exclude</code> in the "
                + "<code>action</code> column to leave an image out, then <code>graft train --labels suggestions.csv --exclude "
                + "suggestions.csv ...</code> (or <code>--data DIR --exclude suggestions.csv</code> to keep the folders' labels).</p>");
        h.append(section(r, o.preprocessing(), 1));
        if (o.badImages().count() > 0) {
            h.append("<h2>Skipped images</h2><table><tr><th class=l>file</th><th class=l>reason</th></tr>");
            for (var e : o.badImages().list()) {
                h.append("<tr><td class=l>").append(Html.esc(e.getKey())).append("</td><td class=l>").append(Html.esc(e.getValue())).append("</td></tr>");
            }
            h.append("</table>");
        }
        h.append("<h2>Timing</h2><p>");
        o.stageSeconds().forEach((k, v) -> h.append(Html.esc(k)).append(String.format(Locale.ROOT, " %.1f s; ", v)));
        h.append(String.format(Locale.ROOT, "detectors %.2f s. Features: %d image(s) from the cache, %d computed.</p>",
                r.seconds(), o.cache().hits(), o.cache().computed()));
        return h.append("</body></html>\n").toString();
    }

    public static void writePage(Path file, DataCheckRun.Outcome o, RunConfig cfg) throws java.io.IOException {
        Files.writeString(file, page(o, cfg), StandardCharsets.UTF_8);
    }

    /**
     * The section's HTML; {@code level} 1 puts its parts under h2 headings (a page of its own), 2 under h3 (inside a
     * training report, below an h2 of its own).
     */
    public static String section(CheckResult r, Preprocessing pre, int level) {
        String hs = level == 1 ? "h2" : "h3";
        CheckInput in = r.input();
        ImageDecoder dec = new ImageDecoder();
        Map<Integer, String> thumbs = new HashMap<>();
        StringBuilder h = new StringBuilder(STYLE);
        if (level > 1) {
            h.append("<h2>Data check</h2>");
        }
        h.append("<p class=\"decision\">").append(Html.esc(r.summary())).append("</p>");
        if (in.hasProbabilities()) {
            h.append('<').append(hs).append(">Likely label errors</").append(hs).append('>').append(labels(r, pre, dec, thumbs));
        }
        h.append('<').append(hs).append(">Duplicates and train/test leaks</").append(hs).append('>').append(duplicates(r, pre, dec, thumbs));
        if (in.features() != null) {
            h.append('<').append(hs).append(">Outliers and blank images</").append(hs).append('>').append(outliers(r, pre, dec, thumbs));
        }
        if (in.hasProbabilities()) {
            h.append('<').append(hs).append(">Classes the probe confuses</").append(hs).append('>').append(confusions(r, pre, dec, thumbs));
        }
        return h.toString();
    }

    /**
     * A training run without source features: the test images that are the same file as, or a byte copy of, a
     * training image (issue 21.11's warning, in the report).
     */
    public static String exactOnly(DataSplits data, Path root) {
        List<SameImages.Leak> leaks = SameImages.acrossSplits(data);
        StringBuilder h = new StringBuilder("<h2>Data check</h2>");
        if (leaks.isEmpty()) {
            return h.append("<p>No test image is the same file as, or a byte copy of, a training image (real paths and content hashes "
                    + "compared). This run computed no source features, so near copies, label errors and outliers were not looked for: "
                    + "<code>graft check</code> does.</p>").toString();
        }
        h.append("<p class=\"warn\">").append(leaks.size()).append(" test image(s) are also training images, so test accuracy counts them "
                + "as unseen. <code>graft check</code> also finds near copies; <code>train --exclude FILE</code> leaves files out.</p>"
                + "<table><tr><th class=l>test image</th><th class=l>training image</th><th class=l>how</th></tr>");
        for (SameImages.Leak l : leaks) {
            h.append("<tr><td class=l>").append(Html.esc(name(root, l.test().path()))).append("</td><td class=l>")
                    .append(Html.esc(name(root, l.train().path()))).append("</td><td class=l>")
                    .append(l.sameFile() ? "same file" : "same bytes").append("</td></tr>");
        }
        return h.append("</table>").toString();
    }

    /** Names relative to the data root, as the check shows them. */
    static String name(Path root, Path file) {
        Path a = file.toAbsolutePath().normalize();
        Path r = root == null ? null : root.toAbsolutePath().normalize();
        return r != null && a.startsWith(r) ? r.relativize(a).toString() : file.toString();
    }

    static String labels(CheckResult r, Preprocessing pre, ImageDecoder dec, Map<Integer, String> thumbs) {
        CheckInput in = r.input();
        List<LabelIssues.Issue> issues = r.labels().issues();
        StringBuilder h = new StringBuilder("<p>Confident learning on the probe's out-of-fold probabilities (each training image scored by a "
                + "probe that did not see its label): an image is flagged when the probe is more confident of another class than that "
                + "class's own images are on average (the class's threshold), lowest probability of the given label first. ");
        if (issues.isEmpty()) {
            return h.append("None found among ").append(r.labels().scored()).append(" training images.</p>").toString();
        }
        h.append(issues.size()).append(" of ").append(r.labels().scored()).append(" training images")
                .append(issues.size() > LABELS_MAX ? "; the first " + LABELS_MAX : "").append(":</p><div class=\"gallery\">");
        for (LabelIssues.Issue i : issues.subList(0, Math.min(LABELS_MAX, issues.size()))) {
            h.append("<div class=\"card\">").append(img(in, i.image(), pre, dec, thumbs)).append(caption(in, i.image()))
                    .append("<div>given: <b>").append(Html.esc(in.classes().get(i.given()))).append("</b></div><div>suggested: <b>")
                    .append(Html.esc(in.classes().get(i.suggested()))).append("</b>")
                    .append(String.format(Locale.ROOT, " (%.0f%%)</div><div>p(given) %.2f</div></div>", 100 * i.confidence(), i.selfConfidence()));
        }
        h.append("</div><details><summary>per-class thresholds (mean out-of-fold probability of the class on its own images)</summary><table>"
                + "<tr><th class=l>class</th><th>threshold</th></tr>");
        for (int c = 0; c < in.classes().size(); c++) {
            h.append("<tr><td class=l>").append(Html.esc(in.classes().get(c))).append("</td><td>")
                    .append(String.format(Locale.ROOT, "%.3f", r.labels().thresholds()[c])).append("</td></tr>");
        }
        return h.append("</table></details>").toString();
    }

    static String duplicates(CheckResult r, Preprocessing pre, ImageDecoder dec, Map<Integer, String> thumbs) {
        CheckInput in = r.input();
        List<Duplicates.Pair> pairs = r.duplicates().pairs();
        StringBuilder h = new StringBuilder("<p>Exact copies by real path (links) and by the SHA-256 of the bytes");
        if (in.features() != null) {
            h.append(String.format(Locale.ROOT, "; near copies (re-encoded, resized, cropped, flipped, brightened) where the cosine of "
                    + "the centred source features is at least %.2f, or where 32x32 thumbnails of what the model saw match (best correlation "
                    + "over crops, shifts and mirroring at least %.2f with a cosine of at least %.2f, or %.2f alone)", r.nearThreshold(),
                    Duplicates.PIXELS_WITH_FEATURES, Duplicates.PIXEL_FEATURE_GATE, Duplicates.PIXELS_ALONE));
        }
        h.append(". A test image that copies a training image is a leak: test accuracy counts it as unseen. ");
        if (pairs.isEmpty()) {
            return h.append("None found.</p>").toString();
        }
        long across = r.count(Duplicates.Scope.ACROSS);
        h.append(String.format(Locale.ROOT, "%d pair(s): %d train/test, %d within training, %d within test", pairs.size(), across,
                r.count(Duplicates.Scope.TRAIN), r.count(Duplicates.Scope.TEST)));
        if (r.duplicates().notListed() > 0) {
            h.append(" (and ").append(r.duplicates().notListed()).append(" more not listed)");
        }
        h.append(pairs.size() > PAIRS_MAX ? "; the first " + PAIRS_MAX : "").append(":</p><div class=\"gallery\">");
        for (Duplicates.Pair p : pairs.subList(0, Math.min(PAIRS_MAX, pairs.size()))) {
            h.append("<div class=\"card pair").append(p.scope() == Duplicates.Scope.ACROSS ? " flag" : "").append("\">")
                    .append(img(in, p.first(), pre, dec, thumbs)).append(img(in, p.second(), pre, dec, thumbs))
                    .append("<div><b>").append(Html.esc(p.scope().label())).append("</b>, ").append(Html.esc(p.kind().label()))
                    .append(Double.isNaN(p.similarity()) ? "" : String.format(Locale.ROOT, ", cosine %.3f", p.similarity()))
                    .append(Double.isNaN(p.pixels()) ? "" : String.format(Locale.ROOT, ", pixels %.3f", p.pixels())).append("</div>")
                    .append(caption(in, p.first())).append(caption(in, p.second())).append("</div>");
        }
        return h.append("</div>").toString();
    }

    static String outliers(CheckResult r, Preprocessing pre, ImageDecoder dec, Map<Integer, String> thumbs) {
        CheckInput in = r.input();
        List<Outliers.Outlier> out = r.outliers().outliers();
        StringBuilder h = new StringBuilder(String.format(Locale.ROOT, "<p>Blank: the pixels hardly vary (standard deviation below %.2f). "
                + "Far from every class: the image's highest cosine to a class centre (its typicality) lies below %.2f, the first quartile "
                + "of all images' typicality less %.1f interquartile ranges. Placeholders, avatars, text cards and corrupt images land here. ",
                Outliers.BLANK_SPREAD, r.outliers().fence(), Outliers.FENCE));
        if (out.isEmpty()) {
            return h.append("None found.</p>").toString();
        }
        h.append(out.size()).append(" image(s)").append(out.size() > OUTLIERS_MAX ? "; the first " + OUTLIERS_MAX : "")
                .append(", least typical first:</p><div class=\"gallery\">");
        for (Outliers.Outlier o : out.subList(0, Math.min(OUTLIERS_MAX, out.size()))) {
            h.append("<div class=\"card\">").append(img(in, o.image(), pre, dec, thumbs)).append(caption(in, o.image()))
                    .append("<div>").append(o.blank() ? String.format(Locale.ROOT, "<b>blank</b> (spread %.3f)", in.spread(o.image()))
                            : String.format(Locale.ROOT, "typicality %.2f", o.typicality())).append("</div>")
                    .append(o.nearestClass() < 0 ? "" : "<div>nearest class: " + Html.esc(in.classes().get(o.nearestClass())) + "</div>")
                    .append("</div>");
        }
        return h.append("</div>").toString();
    }

    static String confusions(CheckResult r, Preprocessing pre, ImageDecoder dec, Map<Integer, String> thumbs) {
        CheckInput in = r.input();
        List<Confusions.Pair> pairs = r.confusions().pairs();
        StringBuilder h = new StringBuilder(String.format(Locale.ROOT, "<p>From the out-of-fold predictions on the training images "
                + "(accuracy %.3f). ", r.confusions().accuracy()));
        if (pairs.isEmpty()) {
            return h.append("The probe confuses no pair of classes.</p>").toString();
        }
        h.append("</p><table><tr><th class=l>classes</th><th>a taken for b</th><th>b taken for a</th><th>together</th></tr>");
        for (Confusions.Pair p : pairs) {
            h.append("<tr><td class=l>").append(Html.esc(in.classes().get(p.a()))).append(" / ").append(Html.esc(in.classes().get(p.b())))
                    .append("</td><td>").append(p.aAsB()).append("</td><td>").append(p.bAsA()).append("</td><td>").append(p.total()).append("</td></tr>");
        }
        h.append("</table>");
        for (Confusions.Pair p : pairs.subList(0, Math.min(CONFUSED_WITH_EXAMPLES, pairs.size()))) {
            h.append("<p>").append(Html.esc(in.classes().get(p.a()))).append(" / ").append(Html.esc(in.classes().get(p.b())))
                    .append(", the most confident mistakes:</p><div class=\"gallery\">");
            for (int i : p.examples()) {
                double[] prob = in.probabilities(i);
                int other = in.images().get(i).label() == p.a() ? p.b() : p.a();
                h.append("<div class=\"card\">").append(img(in, i, pre, dec, thumbs)).append(caption(in, i))
                        .append("<div>labelled <b>").append(Html.esc(in.classes().get(in.images().get(i).label()))).append("</b></div>")
                        .append(String.format(Locale.ROOT, "<div>p(%s) %.2f</div></div>", Html.esc(in.classes().get(other)), prob[other]));
            }
            h.append("</div>");
        }
        return h.toString();
    }

    private static String img(CheckInput in, int i, Preprocessing pre, ImageDecoder dec, Map<Integer, String> thumbs) {
        String src = thumbs.computeIfAbsent(i, k -> {
            String t = HtmlReport.thumbnail(dec, in.images().get(k).file(), pre);
            return t == null ? "" : t;
        });
        return src.isEmpty() ? "" : "<img alt=\"" + Html.esc(in.images().get(i).file().getFileName()) + "\" src=\"" + src + "\">";
    }

    private static String caption(CheckInput in, int i) {
        CheckInput.Image img = in.images().get(i);
        return "<div title=\"" + Html.esc(img.file()) + "\">" + Html.esc(img.name()) + " <span>(" + img.split().csv() + ", "
                + Html.esc(in.classes().get(img.label())) + ")</span></div>";
    }
}
