package dev.graft.report;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.data.ImageFolder;
import dev.graft.train.EpochMetrics;
import dev.graft.train.Evaluation;
import dev.graft.train.FineTuning;
import dev.graft.train.RunConfig;
import dev.graft.util.Json;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** metrics.json: one entry per epoch with the book's numbers, plus the run's totals. */
public final class MetricsJson {

    private MetricsJson() {
    }

    public static ObjectNode build(FineTuning.Result r, RunConfig cfg) {
        ObjectNode root = Json.object();
        root.put("mode", cfg.recipe().mode().label());
        root.put("model", r.backbone().architecture().name());
        ArrayNode epochs = root.putArray("epochs");
        for (EpochMetrics m : r.history()) {
            ObjectNode e = epochs.addObject();
            e.put("epoch", m.epoch());
            num(e, "train_loss", m.trainLoss());
            num(e, "train_acc", m.trainAcc());
            num(e, "val_acc", m.valAcc());
            num(e, "val_loss", m.valLoss());
            num(e, "test_acc", m.testAcc());
            num(e, "examples_per_sec", m.examplesPerSec());
            num(e, "test_examples_per_sec", m.testExamplesPerSec());
            num(e, "seconds", m.seconds());
            num(e, "data_wait_seconds", m.dataWaitSeconds());
            num(e, "lr", m.lr());
        }
        num(root, "test_acc", r.testAcc());
        if (r.testEval() != null) {
            root.set("test", evaluation(r.testEval(), r.classes(), r.data().test()));
        }
        if (r.ttaEval() != null) {
            num(root, "test_acc_tta", r.ttaEval().accuracy());
            root.put("tta_views", cfg.tta());
        }
        if (cfg.lrFind() != null) {
            root.set("lr_find", Json.tree(cfg.lrFind()));
        }
        root.put("selection", r.selection());
        if (r.search() != null) {
            root.set("search", Json.tree(r.search()));
        }
        ObjectNode counts = root.putObject("train_images_per_class");
        int[] perClass = r.data().train().countPerClass();
        int[] val = r.data().validation() == null ? new int[perClass.length] : r.data().validation().countPerClass();
        for (int c = 0; c < perClass.length; c++) {
            counts.put(r.classes().get(c), perClass[c] + val[c]);
        }
        ArrayNode milestones = root.putArray("milestones");
        for (FineTuning.Milestone m : r.milestones()) {
            ObjectNode n = milestones.addObject().put("what", m.what());
            num(n, "seconds", m.seconds());
            num(n, "test_acc", m.testAcc());
        }
        ObjectNode stages = root.putObject("stage_seconds");
        r.stages().forEach((k, v) -> num(stages, k, v));
        num(root, "seconds", r.seconds());
        root.put("zero_shot", r.zeroShot());
        root.put("head_init", r.headInit());
        root.set("warnings", Json.tree(r.warnings()));
        ArrayNode skipped = root.putArray("skipped_images");
        for (Map.Entry<Path, String> e : r.badImages().list()) {
            skipped.addObject().put("file", e.getKey().toString()).put("reason", e.getValue());
        }
        root.set("recipe", Json.tree(cfg.recipe()));
        if (r.check() != null) {
            root.set("data_check", dev.graft.check.CheckJson.build(r.check(), false));
        } else {
            ArrayNode leaks = root.putObject("data_check").put("features", false).putArray("train_test_same_images");
            for (dev.graft.data.SameImages.Leak l : dev.graft.data.SameImages.acrossSplits(r.data())) {
                leaks.addObject().put("test", l.test().path().toString()).put("train", l.train().path().toString())
                        .put("how", l.sameFile() ? "same file" : "same bytes");
            }
        }
        return root;
    }

    /** Test figures: accuracy (top-5 from 5 classes on), loss, per class, averages, confusions, worst images. */
    static ObjectNode evaluation(Evaluation e, List<String> classes, ImageFolder folder) {
        ObjectNode t = Json.object();
        num(t, "accuracy", e.accuracy());
        if (classes.size() >= 5) {
            num(t, "top5_accuracy", e.topK(5));
        }
        num(t, "loss", e.loss());
        t.put("images", e.size());
        Evaluation.ClassReport rep = e.classReport(classes.size());
        ArrayNode per = t.putArray("per_class");
        for (Evaluation.ClassFigures f : rep.classes()) {
            figures(per.addObject().put("class", classes.get(f.index())), f);
        }
        figures(t.putObject("macro_avg"), rep.macro());
        figures(t.putObject("weighted_avg"), rep.weighted());
        ArrayNode conf = t.putArray("most_confused");
        for (Evaluation.Confusion c : e.mostConfused(classes.size(), 10)) {
            conf.addObject().put("actual", classes.get(c.actual())).put("predicted", classes.get(c.predicted())).put("count", c.count());
        }
        ArrayNode worst = t.putArray("top_losses");
        for (int i : e.topLosses(10)) {
            ObjectNode w = worst.addObject().put("file", folder == null ? String.valueOf(e.samples()[i])
                    : folder.samples().get(e.samples()[i]).path().toString());
            w.put("actual", classes.get(e.labels()[i])).put("predicted", classes.get(e.predictions()[i]));
            num(w, "probability", e.probabilities()[i][e.predictions()[i]]);
            num(w, "loss", e.lossOf(i));
        }
        return t;
    }

    static void figures(ObjectNode n, Evaluation.ClassFigures f) {
        num(n, "precision", f.precision());
        num(n, "recall", f.recall());
        num(n, "f1", f.f1());
        n.put("support", f.support());
    }

    public static void write(Path file, FineTuning.Result r, RunConfig cfg) throws IOException {
        Json.write(file, build(r, cfg));
    }

    static void num(ObjectNode n, String key, double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            n.putNull(key);
        } else {
            n.put(key, v);
        }
    }
}
