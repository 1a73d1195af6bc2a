package dev.graft.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.graft.data.BadImages;
import dev.graft.data.ImageDecoder;
import dev.graft.data.ImageFolder;
import dev.graft.data.Loader;
import dev.graft.data.Transforms;
import dev.graft.model.Network;
import dev.graft.model.Predictor;
import dev.graft.model.nn.Torch;

import java.util.Arrays;
import java.util.Iterator;

/** Runs a network in evaluation mode over a folder (through the one prediction path) and collects predictions. */
public final class Evaluator {
    private Evaluator() {
    }

    public static Evaluation evaluate(Network net, ImageFolder folder, dev.graft.data.Preprocessing pre, TrainOptions opts, BadImages bad) {
        Collector col = new Collector(folder.size(), net.numClasses());
        long t0 = System.nanoTime();
        try (Predictor p = new Predictor(net, pre)) {
            forEachBatch(folder, p, opts, bad, (x, b) -> col.add(p.logits(x, b.size()), b.labels(), b.samples()));
        }
        return col.finish((System.nanoTime() - t0) / 1e9);
    }

    /**
     * Test-time augmentation: the plain predictions mixed with {@code views} augmented ones (see
     * {@link Predictor#ttaView}), per image in folder order.
     */
    public static Evaluation evaluateTta(Network net, ImageFolder folder, dev.graft.data.Preprocessing pre, TrainOptions opts,
                                         BadImages bad, int views) {
        long t0 = System.nanoTime();
        int classes = net.numClasses();
        java.util.Map<Integer, float[]> plain = new java.util.HashMap<>();
        java.util.Map<Integer, float[]> mean = new java.util.HashMap<>();
        java.util.Map<Integer, Integer> label = new java.util.HashMap<>();
        try (Predictor p = new Predictor(net, pre)) {
            for (int k = -1; k < views; k++) {
                Transforms.ImageTransform t = k < 0 ? Transforms.bookTest(pre) : Predictor.ttaView(pre, k);
                boolean isPlain = k < 0;
                forEachBatch(folder, t, p, opts, bad, (x, b) -> {
                    float[][] probs = p.probabilities(x, b.size());
                    for (int i = 0; i < b.size(); i++) {
                        label.put(b.samples()[i], b.labels()[i]);
                        if (isPlain) {
                            plain.put(b.samples()[i], probs[i]);
                        } else {
                            float[] m = mean.computeIfAbsent(b.samples()[i], s -> new float[classes]);
                            for (int c = 0; c < classes; c++) {
                                m[c] += probs[i][c] / views;
                            }
                        }
                    }
                });
            }
        }
        Collector col = new Collector(plain.size(), classes);
        for (int sample : new java.util.TreeSet<>(plain.keySet())) {
            float[] mixed = Predictor.mixTta(new float[][] {plain.get(sample)}, new float[][] {mean.get(sample)})[0];
            float[] logits = new float[classes];
            for (int c = 0; c < classes; c++) {
                logits[c] = (float) Math.log(Math.max(mixed[c], 1e-30f)); // softmax(log p) = p
            }
            col.add(logits, new int[] {label.get(sample)}, new int[] {sample});
        }
        return col.finish((System.nanoTime() - t0) / 1e9);
    }

    /** What to do with one evaluation batch: its test-transformed images and the loader's batch. */
    @FunctionalInterface
    interface BatchConsumer {
        void accept(float[] nchw, Loader.Decoded batch);
    }

    /** Runs the folder through the test transform in order, batch by batch. */
    static void forEachBatch(ImageFolder folder, Predictor p, TrainOptions opts, BadImages bad, BatchConsumer consumer) {
        forEachBatch(folder, Transforms.bookTest(p.preprocessing()), p, opts, bad, consumer);
    }

    static void forEachBatch(ImageFolder folder, Transforms.ImageTransform transform, Predictor p, TrainOptions opts, BadImages bad,
                             BatchConsumer consumer) {
        int floats = Transforms.size(p.preprocessing());
        try (Loader loader = new Loader(folder.samples(), transform, floats, opts.evalBatchSize(),
                false, 0, opts.workers(), opts.prefetch(), opts.onBadImage(), bad, new ImageDecoder(opts.maxPixels()), 0)) {
            for (Iterator<Loader.Decoded> it = loader.epoch(0, 0); it.hasNext(); ) {
                Loader.Decoded b = it.next();
                if (b.size() > 0) {
                    consumer.accept(b.data(), b);
                }
            }
        }
    }

    /** Predictions of the head on cached body features. */
    public static Evaluation onFeatures(Network net, FeatureSet fs) {
        Collector col = new Collector(fs.size(), net.numClasses());
        long t0 = System.nanoTime();
        int bs = 1024;
        Torch.noGrad(() -> {
            for (int start = 0; start < fs.size(); start += bs) {
                int k = Math.min(bs, fs.size() - start);
                try (NDManager m = net.manager().newSubManager()) {
                    NDArray x = Torch.floats(m, fs.features(), start * fs.dim(), new Shape(k, fs.dim()));
                    col.add(net.head(x, false).toFloatArray(), Arrays.copyOfRange(fs.labels(), start, start + k),
                            Arrays.copyOfRange(fs.samples(), start, start + k));
                }
            }
        });
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

        /** One batch of logits (row-major, n x classes). */
        void add(float[] logits, int[] y, int[] idx) {
            for (int i = 0; i < y.length; i++) {
                float[] row = softmax(logits, i * classes, classes);
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

    /** Softmax of one row of logits, in double for stability, stored as float. */
    static float[] softmax(float[] logits, int offset, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            max = Math.max(max, logits[offset + j]);
        }
        double sum = 0;
        double[] e = new double[n];
        for (int j = 0; j < n; j++) {
            e[j] = Math.exp(logits[offset + j] - max);
            sum += e[j];
        }
        float[] p = new float[n];
        for (int j = 0; j < n; j++) {
            p[j] = (float) (e[j] / sum);
        }
        return p;
    }
}
