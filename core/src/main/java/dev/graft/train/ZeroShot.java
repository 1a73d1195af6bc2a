package dev.graft.train;

import dev.graft.data.DataSplits;
import dev.graft.model.Backbone;
import dev.graft.weights.SourceClassifier;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How well the untouched source model already does: its own classifier restricted to the source classes that the
 * target classes match by name, on the test images. Measured before anything trains.
 */
final class ZeroShot {
    private ZeroShot() {
    }

    /** The accuracy as text, a reason when it cannot be computed, or null when it does not apply. */
    static String measure(Backbone backbone, DataSplits data, java.util.function.Supplier<FeatureSet> testFeatures) {
        SourceClassifier src = backbone.classifier();
        if (src == null || backbone.labels().isEmpty() || data.test() == null || backbone.body() == null) {
            return null;
        }
        int[] match = backbone.matchClasses(data.classes());
        List<String> missing = new ArrayList<>();
        for (int t = 0; t < match.length; t++) {
            if (match[t] < 0) {
                missing.add(data.classes().get(t));
            }
        }
        if (!missing.isEmpty()) {
            return "not computed: " + missing + " match no source class";
        }
        FeatureSet fs = testFeatures.get();
        int correct = 0;
        for (int n = 0; n < fs.size(); n++) {
            int best = -1;
            double bestV = Double.NEGATIVE_INFINITY;
            for (int t = 0; t < match.length; t++) {
                double v = src.logit(match[t], fs.features(), n * fs.dim());
                if (v > bestV) {
                    bestV = v;
                    best = t;
                }
            }
            if (best == fs.labels()[n]) {
                correct++;
            }
        }
        return String.format(Locale.ROOT, "%.4f", (double) correct / Math.max(1, fs.size()));
    }
}
