package dev.graft.report;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.train.EpochMetrics;
import dev.graft.train.FineTuning;
import dev.graft.train.RunConfig;
import dev.graft.util.Json;

import java.io.IOException;
import java.nio.file.Path;
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
        num(root, "seconds", r.seconds());
        root.put("zero_shot", r.zeroShot());
        root.put("head_init", r.headInit());
        root.set("warnings", Json.tree(r.warnings()));
        ArrayNode skipped = root.putArray("skipped_images");
        for (Map.Entry<Path, String> e : r.badImages().list()) {
            skipped.addObject().put("file", e.getKey().toString()).put("reason", e.getValue());
        }
        root.set("recipe", Json.tree(cfg.recipe()));
        return root;
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
