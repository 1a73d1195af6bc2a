package dev.graft.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.util.Json;

/**
 * The best validation result of a loop so far (accuracy, ties broken by the lower loss) among trained epochs: epoch 0
 * (the weights before any step) is never a candidate. Kept by {@link KeepBestEpoch} and {@link EarlyStopping},
 * each its own, and saved in their checkpoint parts.
 */
final class BestValidation {
    int epoch = -1;
    double accuracy = -1;
    double loss = Double.POSITIVE_INFINITY;

    /** Takes {@code m} when it beats the best so far; whether it did. */
    boolean offer(EpochMetrics m) {
        boolean better = m.epoch() > 0 && !Double.isNaN(m.valAcc()) && (m.valAcc() > accuracy || (m.valAcc() == accuracy && m.valLoss() < loss));
        if (better) {
            accuracy = m.valAcc();
            loss = m.valLoss();
            epoch = m.epoch();
        }
        return better;
    }

    ObjectNode save() {
        return Json.object().put("epoch", epoch).put("accuracy", accuracy).put("loss", loss);
    }

    void restore(JsonNode v) {
        epoch = v.path("epoch").asInt(-1);
        accuracy = v.path("accuracy").asDouble(-1);
        loss = v.path("loss").asDouble(Double.POSITIVE_INFINITY);
    }
}
