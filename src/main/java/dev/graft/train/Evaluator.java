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
import java.util.Arrays;
import java.util.Iterator;

/** Runs a network in evaluation mode over a folder and collects predictions. */
public final class Evaluator {
    private Evaluator() {
    }

    public static Evaluation evaluate(Network net, ImageFolder folder, Preprocessing pre, TrainOptions opts, BadImages bad) {
        Collector col = new Collector(folder.size(), net.numClasses());
        long t0 = System.nanoTime();
        forEachBatch(net, folder, pre, opts, bad, (ps, x, b) ->
                col.add(net.forward(ps, new NDList(x), false).singletonOrThrow(), b.labels(), b.samples()));
        return col.finish((System.nanoTime() - t0) / 1e9);
    }

    /** What to do with one evaluation batch: its input tensor (attached to a per-batch manager) and its loader batch. */
    @FunctionalInterface
    interface BatchConsumer {
        void accept(ParameterStore ps, NDArray x, Loader.Batch batch);
    }

    /** Runs the folder through the test transform in order, batch by batch, in evaluation mode. */
    static void forEachBatch(Network net, ImageFolder folder, Preprocessing pre, TrainOptions opts, BadImages bad, BatchConsumer consumer) {
        int floats = Transforms.size(pre);
        try (Loader loader = new Loader(folder.samples(), Transforms.bookTest(pre), floats, opts.evalBatchSize(), false, 0,
                opts.workers(), opts.prefetch(), opts.onBadImage(), bad, new ImageDecoder(opts.maxPixels()), 0);
             NDManager m = net.manager().newSubManager()) {
            ParameterStore ps = new ParameterStore(m, false);
            Iterator<Loader.Batch> it = loader.epoch(0, 0);
            // the weights stay put for the whole pass: fold BatchNorm into the convolutions once
            net.foldBatchNorm();
            try {
                while (it.hasNext()) {
                    Loader.Batch b = it.next();
                    if (b.size() == 0) {
                        continue;
                    }
                    try (NDManager bm = m.newSubManager()) {
                        consumer.accept(ps, bm.create(FloatBuffer.wrap(b.data(), 0, b.size() * floats),
                                new Shape(b.size(), 3, pre.crop(), pre.crop())), b);
                    }
                }
            } finally {
                net.unfoldBatchNorm();
            }
        }
    }

    public static Evaluation onFeatures(Network net, FeatureSet fs) {
        Collector col = new Collector(fs.size(), net.numClasses());
        long t0 = System.nanoTime();
        int bs = 1024;
        try (NDManager m = net.manager().newSubManager()) {
            ParameterStore ps = new ParameterStore(m, false);
            for (int start = 0; start < fs.size(); start += bs) {
                int k = Math.min(bs, fs.size() - start);
                try (NDManager bm = m.newSubManager()) {
                    NDArray x = bm.create(FloatBuffer.wrap(fs.features(), start * fs.dim(), k * fs.dim()), new Shape(k, fs.dim()));
                    NDArray logits = net.headForward(ps, new NDList(x), false).singletonOrThrow();
                    col.add(logits, Arrays.copyOfRange(fs.labels(), start, start + k), Arrays.copyOfRange(fs.samples(), start, start + k));
                }
            }
        }
        return col.finish((System.nanoTime() - t0) / 1e9);
    }

    /** Accumulates softmax probabilities, predictions and the summed loss batch by batch. */
    static final class Collector {
        final int[] samples;
        final int[] labels;
        final int[] preds;
        final float[][] probs;
        final int classes;
        int count;
        double lossSum;

        Collector(int n, int classes) {
            samples = new int[n];
            labels = new int[n];
            preds = new int[n];
            probs = new float[n][];
            this.classes = classes;
        }

        void add(NDArray logits, int[] y, int[] idx) {
            float[] p = logits.softmax(1).toFloatArray();
            for (int i = 0; i < y.length; i++) {
                float[] row = Arrays.copyOfRange(p, i * classes, (i + 1) * classes);
                int arg = 0;
                for (int j = 1; j < classes; j++) {
                    if (row[j] > row[arg]) {
                        arg = j;
                    }
                }
                samples[count] = idx[i];
                labels[count] = y[i];
                preds[count] = arg;
                probs[count] = row;
                lossSum += -Math.log(Math.max(row[y[i]], 1e-12f));
                count++;
            }
        }

        Evaluation finish(double seconds) {
            int correct = 0;
            for (int i = 0; i < count; i++) {
                if (preds[i] == labels[i]) {
                    correct++;
                }
            }
            return new Evaluation(Arrays.copyOf(samples, count), Arrays.copyOf(labels, count), Arrays.copyOf(preds, count),
                    Arrays.copyOf(probs, count), count == 0 ? Double.NaN : (double) correct / count,
                    count == 0 ? Double.NaN : lossSum / count, seconds > 0 ? count / seconds : 0);
        }
    }
}
