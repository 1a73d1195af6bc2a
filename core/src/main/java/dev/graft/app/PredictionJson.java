package dev.graft.app;

import dev.graft.api.Classifier;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.util.Json;

import java.util.List;

/** One image's predictions as JSON, the same for {@code predict --json} and {@code serve}. */
final class PredictionJson {
    private PredictionJson() {
    }

    static ObjectNode of(String file, List<Classifier.Prediction> predictions) {
        ObjectNode n = Json.object().put("file", file);
        ArrayNode arr = n.putArray("predictions");
        for (Classifier.Prediction p : predictions) {
            arr.addObject().put("label", p.label()).put("index", p.index()).put("probability", p.probability());
        }
        return n;
    }

    static ObjectNode error(String file, String reason) {
        return Json.object().put("file", file).put("error", reason);
    }
}
