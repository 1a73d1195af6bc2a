package dev.graft.train;

import dev.graft.data.BadImages;
import dev.graft.data.ImageFolder;
import dev.graft.data.Preprocessing;
import dev.graft.model.Network;
import dev.graft.model.Predictor;

import java.util.Arrays;

/**
 * Pooled body features of a folder, computed once in evaluation mode with the test transform. A frozen body
 * without augmentation sees the same input every epoch, so its features can be cached and only the head trained.
 */
public record FeatureSet(float[] features, int[] labels, int[] samples, int dim) {

    public int size() {
        return labels.length;
    }

    public static FeatureSet compute(Network net, ImageFolder folder, Preprocessing pre, TrainOptions opts, BadImages bad) {
        int n = folder.size();
        int d = net.featureDim();
        float[] feats = new float[n * d];
        int[] labels = new int[n];
        int[] samples = new int[n];
        int[] count = {0};
        try (Predictor p = new Predictor(net, pre)) {
            Evaluator.forEachBatch(folder, p, opts, bad, (x, b) -> {
                System.arraycopy(p.features(x, b.size()), 0, feats, count[0] * d, b.size() * d);
                System.arraycopy(b.labels(), 0, labels, count[0], b.size());
                System.arraycopy(b.samples(), 0, samples, count[0], b.size());
                count[0] += b.size();
            });
        }
        return new FeatureSet(Arrays.copyOf(feats, count[0] * d), Arrays.copyOf(labels, count[0]),
                Arrays.copyOf(samples, count[0]), d);
    }
}
