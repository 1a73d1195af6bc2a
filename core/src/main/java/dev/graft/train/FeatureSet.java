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
 * Rows carry their sample's index in its folder and its path relative to the folder ({@code ids}).
 */
public record FeatureSet(float[] features, int[] labels, int[] samples, String[] ids, int dim) {

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
        String[] ids = new String[count[0]];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = folder.dir().relativize(folder.samples().get(samples[i]).path()).toString();
        }
        return new FeatureSet(Arrays.copyOf(feats, count[0] * d), Arrays.copyOf(labels, count[0]),
                Arrays.copyOf(samples, count[0]), ids, d);
    }

    /** The samples whose fold is {@code fold} ({@code in} true) or all others. */
    public FeatureSet select(int[] folds, int fold, boolean in) {
        int n = 0;
        for (int f : folds) {
            if ((f == fold) == in) {
                n++;
            }
        }
        int[] rows = new int[n];
        int j = 0;
        for (int i = 0; i < folds.length; i++) {
            if ((folds[i] == fold) == in) {
                rows[j++] = i;
            }
        }
        return rows(rows);
    }

    /** The given rows, in that order. */
    FeatureSet rows(int[] rows) {
        int n = rows.length;
        float[] x = new float[n * dim];
        int[] y = new int[n];
        int[] s = new int[n];
        String[] id = new String[n];
        for (int j = 0; j < n; j++) {
            System.arraycopy(features, rows[j] * dim, x, j * dim, dim);
            y[j] = labels[rows[j]];
            s[j] = samples[rows[j]];
            id[j] = ids[rows[j]];
        }
        return new FeatureSet(x, y, s, id, dim);
    }

    /** The rows in path order: a set's rows in the same order however it was put together (train and validation parts). */
    public FeatureSet sorted() {
        Integer[] order = new Integer[size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> ids[a].compareTo(ids[b]));
        return rows(Arrays.stream(order).mapToInt(Integer::intValue).toArray());
    }

    /** These samples followed by {@code other}'s (sample indices are each folder's own). */
    public FeatureSet concat(FeatureSet other) {
        float[] x = Arrays.copyOf(features, features.length + other.features.length);
        System.arraycopy(other.features, 0, x, features.length, other.features.length);
        int[] y = Arrays.copyOf(labels, labels.length + other.labels.length);
        System.arraycopy(other.labels, 0, y, labels.length, other.labels.length);
        int[] s = Arrays.copyOf(samples, samples.length + other.samples.length);
        System.arraycopy(other.samples, 0, s, samples.length, other.samples.length);
        String[] id = Arrays.copyOf(ids, ids.length + other.ids.length);
        System.arraycopy(other.ids, 0, id, ids.length, other.ids.length);
        return new FeatureSet(x, y, s, id, dim);
    }
}
