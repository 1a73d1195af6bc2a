package dev.graft.check;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.util.Json;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** check.json: every finding with its file, the thresholds used, and per image its nearest neighbour and typicality. */
public final class CheckJson {
    private CheckJson() {
    }

    public static ObjectNode build(CheckResult r) {
        return build(r, true);
    }

    /** Without {@code perImage}, no per-image table (metrics.json keeps the findings only). */
    public static ObjectNode build(CheckResult r, boolean perImage) {
        CheckInput in = r.input();
        List<String> classes = in.classes();
        ObjectNode root = Json.object();
        root.put("summary", r.summary());
        root.set("classes", Json.tree(classes));
        root.put("images", in.size());
        root.put("training_images", in.images().stream().filter(i -> i.split().trains()).count());
        root.put("test_images", in.images().stream().filter(i -> !i.split().trains()).count());
        root.put("features", in.features() != null);
        root.put("probe", in.hasProbabilities());
        ObjectNode th = root.putObject("thresholds");
        num(th, "near_duplicate_cosine", r.nearThreshold());
        num(th, "pixel_match_with_features", Duplicates.PIXELS_WITH_FEATURES);
        num(th, "pixel_match_feature_gate", Duplicates.PIXEL_FEATURE_GATE);
        num(th, "pixel_match_alone", Duplicates.PIXELS_ALONE);
        num(th, "outlier_fence_iqr", Outliers.FENCE);
        num(th, "blank_pixel_spread", Outliers.BLANK_SPREAD);
        num(th, "outlier_typicality_fence", r.outliers().fence());
        ObjectNode lt = th.putObject("label_confidence_per_class");
        for (int c = 0; c < classes.size(); c++) {
            num(lt, classes.get(c), r.labels().thresholds()[c]);
        }
        ArrayNode li = root.putArray("label_issues");
        for (LabelIssues.Issue i : r.labels().issues()) {
            ObjectNode o = image(li.addObject(), in, i.image());
            o.put("given", classes.get(i.given())).put("suggested", classes.get(i.suggested()));
            num(o, "confidence", i.confidence());
            num(o, "self_confidence", i.selfConfidence());
        }
        root.set("confident_joint", Json.tree(r.labels().confidentJoint()));
        ArrayNode du = root.putArray("duplicates");
        for (Duplicates.Pair p : r.duplicates().pairs()) {
            ObjectNode o = du.addObject().put("kind", p.kind().name().toLowerCase(java.util.Locale.ROOT))
                    .put("scope", p.scope().name().toLowerCase(java.util.Locale.ROOT));
            num(o, "similarity", p.similarity());
            num(o, "pixels", p.pixels());
            image(o.putObject("first"), in, p.first());
            image(o.putObject("second"), in, p.second());
        }
        root.put("duplicates_not_listed", r.duplicates().notListed());
        ArrayNode ou = root.putArray("outliers");
        for (Outliers.Outlier o : r.outliers().outliers()) {
            ObjectNode n = image(ou.addObject(), in, o.image());
            n.put("blank", o.blank());
            num(n, "typicality", o.typicality());
            n.put("nearest_class", o.nearestClass() < 0 ? null : classes.get(o.nearestClass()));
            num(n, "pixel_spread", in.spread(o.image()));
        }
        num(root, "probe_out_of_fold_accuracy", r.confusions().accuracy());
        ArrayNode cp = root.putArray("confused_pairs");
        for (Confusions.Pair p : r.confusions().pairs()) {
            ObjectNode o = cp.addObject().put("a", classes.get(p.a())).put("b", classes.get(p.b())).put("a_as_b", p.aAsB()).put("b_as_a", p.bAsA());
            ArrayNode ex = o.putArray("examples");
            p.examples().forEach(i -> image(ex.addObject(), in, i));
        }
        ObjectNode sec = root.putObject("seconds");
        r.stageSeconds().forEach((k, v) -> num(sec, k, v));
        num(sec, "total", r.seconds());
        if (!perImage) {
            return root;
        }
        ArrayNode all = root.putArray("per_image");
        for (int i = 0; i < in.size(); i++) {
            ObjectNode o = image(all.addObject(), in, i);
            int nn = r.duplicates().nearest()[i];
            o.put("nearest", nn < 0 ? null : in.images().get(nn).file().toAbsolutePath().normalize().toString());
            num(o, "nearest_similarity", r.duplicates().nearestSimilarity()[i]);
            num(o, "typicality", r.outliers().typicality()[i]);
            num(o, "pixel_spread", in.spread(i));
        }
        return root;
    }

    private static ObjectNode image(ObjectNode o, CheckInput in, int i) {
        CheckInput.Image img = in.images().get(i);
        return o.put("file", img.file().toAbsolutePath().normalize().toString()).put("name", img.name())
                .put("split", img.split().csv()).put("label", in.classes().get(img.label()));
    }

    public static void write(Path file, CheckResult r) throws IOException {
        Json.write(file, build(r));
    }

    static void num(ObjectNode n, String key, double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            n.putNull(key);
        } else {
            n.put(key, v);
        }
    }
}
