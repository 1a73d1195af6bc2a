package dev.graft.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dev.graft.data.BadImages;
import dev.graft.data.ImageDecoder;
import dev.graft.data.ImageFolder;
import dev.graft.data.Loader;
import dev.graft.data.Preprocessing;
import dev.graft.data.Transforms;
import dev.graft.model.Network;

import java.nio.FloatBuffer;
import java.util.Iterator;

/**
 * Pooled body features of a folder, computed once in evaluation mode with the test transform. A frozen body
 * without augmentation sees the same input every epoch, so its features can be cached and only the head trained.
 */
public record FeatureSet(float[] features, int[] labels, int[] samples, int dim) {

    public int size() {
        return labels.length;
    }

    public static FeatureSet compute(Network net, ImageFolder folder, Preprocessing pre, TrainOptions opts, BadImages bad, long seed) {
        int floats = Transforms.size(pre);
        int n = folder.size();
        int d = net.featureDim();
        float[] feats = new float[n * d];
        int[] labels = new int[n];
        int[] samples = new int[n];
        int count = 0;
        try (Loader loader = new Loader(folder.samples(), Transforms.bookTest(pre), floats, opts.evalBatchSize(), false, seed,
                opts.workers(), opts.prefetch(), opts.onBadImage(), bad, new ImageDecoder(opts.maxPixels()), 0);
             NDManager m = net.manager().newSubManager()) {
            ParameterStore ps = new ParameterStore(m, false);
            Iterator<Loader.Batch> it = loader.epoch(0, 0);
            while (it.hasNext()) {
                Loader.Batch b = it.next();
                if (b.size() == 0) {
                    continue;
                }
                try (NDManager bm = m.newSubManager()) {
                    NDArray x = bm.create(FloatBuffer.wrap(b.data(), 0, b.size() * floats), new Shape(b.size(), 3, pre.crop(), pre.crop()));
                    float[] f = net.features(ps, new NDList(x), false).singletonOrThrow().toFloatArray();
                    System.arraycopy(f, 0, feats, count * d, b.size() * d);
                    System.arraycopy(b.labels(), 0, labels, count, b.size());
                    System.arraycopy(b.samples(), 0, samples, count, b.size());
                    count += b.size();
                }
            }
        }
        return new FeatureSet(java.util.Arrays.copyOf(feats, count * d), java.util.Arrays.copyOf(labels, count),
                java.util.Arrays.copyOf(samples, count), d);
    }
}
