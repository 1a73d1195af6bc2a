package dev.graft.train;

import dev.graft.data.Loader;

import java.util.Iterator;
import java.util.SplittableRandom;

/**
 * MixUp (Zhang et al. 2018) and CutMix (Yun et al. 2019) on a batch source: each batch is mixed with a shuffled
 * copy of itself, its targets become the same mixture of one-hot labels. MixUp blends whole images (or feature
 * vectors) with lambda ~ Beta(alpha, alpha), kept above 0.5 as fastai does; CutMix pastes a box of the other image
 * covering 1 - lambda of the area (lambda then recomputed from the box). With both, each batch draws one. Every
 * draw is seeded by (seed, epoch, batch), so a resumed run mixes the same way.
 */
final class Mixing {
    private Mixing() {
    }

    static BatchSource of(BatchSource in, double mixup, double cutmix, int classes, long seed) {
        if (mixup <= 0 && cutmix <= 0) {
            return in;
        }
        return new BatchSource() {
            @Override
            public int batchesPerEpoch() {
                return in.batchesPerEpoch();
            }

            @Override
            public int batchSize() {
                return in.batchSize();
            }

            @Override
            public boolean features() {
                return in.features();
            }

            @Override
            public int imageSize() {
                return in.imageSize();
            }

            @Override
            public Iterator<Batch> epoch(int epoch, int fromBatch) {
                Iterator<Batch> it = in.epoch(epoch, fromBatch);
                return new Iterator<>() {
                    int index = fromBatch;

                    @Override
                    public boolean hasNext() {
                        return it.hasNext();
                    }

                    @Override
                    public Batch next() {
                        SplittableRandom rng = new SplittableRandom(Loader.mix(seed ^ 0x5DEECE66DL, epoch, index++));
                        return mix(it.next(), mixup, cutmix, classes, rng);
                    }
                };
            }

            @Override
            public String describe(int sample) {
                return in.describe(sample);
            }

            @Override
            public void close() {
                in.close();
            }
        };
    }

    static BatchSource.Batch mix(BatchSource.Batch b, double mixup, double cutmix, int classes, SplittableRandom rng) {
        int n = b.size();
        if (n < 2) {
            return b;
        }
        boolean cut = cutmix > 0 && !b.features() && (mixup <= 0 || rng.nextBoolean());
        double lambda = beta(cut ? cutmix : mixup, rng);
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) {
            perm[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        int per = (int) (b.shape().size() / n);
        float[] x = new float[n * per];
        if (cut) {
            int h = (int) b.shape().get(2);
            int w = (int) b.shape().get(3);
            double ratio = Math.sqrt(1 - lambda);
            int cw = (int) (w * ratio);
            int ch = (int) (h * ratio);
            int cx = rng.nextInt(w);
            int cy = rng.nextInt(h);
            int x0 = Math.max(0, cx - cw / 2);
            int x1 = Math.min(w, cx + cw / 2);
            int y0 = Math.max(0, cy - ch / 2);
            int y1 = Math.min(h, cy + ch / 2);
            System.arraycopy(b.data(), 0, x, 0, n * per);
            int plane = h * w;
            for (int i = 0; i < n; i++) {
                for (int c = 0; c < per / plane; c++) {
                    for (int yy = y0; yy < y1; yy++) {
                        int dst = i * per + c * plane + yy * w;
                        int src = perm[i] * per + c * plane + yy * w;
                        System.arraycopy(b.data(), src + x0, x, dst + x0, x1 - x0);
                    }
                }
            }
            lambda = 1 - (double) (x1 - x0) * (y1 - y0) / plane;
        } else {
            lambda = Math.max(lambda, 1 - lambda);
            float l = (float) lambda;
            for (int i = 0; i < n; i++) {
                int a = i * per;
                int o = perm[i] * per;
                for (int k = 0; k < per; k++) {
                    x[a + k] = l * b.data()[a + k] + (1 - l) * b.data()[o + k];
                }
            }
        }
        float[] targets = new float[n * classes];
        for (int i = 0; i < n; i++) {
            targets[i * classes + b.labels()[i]] += (float) lambda;
            targets[i * classes + b.labels()[perm[i]]] += (float) (1 - lambda);
        }
        return new BatchSource.Batch(n, x, b.shape(), b.labels(), b.samples(), b.features(), targets);
    }

    /** Beta(alpha, alpha) as X / (X + Y) of two Gamma(alpha) draws. */
    static double beta(double alpha, SplittableRandom rng) {
        double x = gamma(alpha, rng);
        double y = gamma(alpha, rng);
        return x + y == 0 ? 0.5 : x / (x + y);
    }

    /** Gamma(shape, 1) by Marsaglia and Tsang, boosted for shape < 1. */
    static double gamma(double shape, SplittableRandom rng) {
        if (shape < 1) {
            return gamma(shape + 1, rng) * Math.pow(rng.nextDouble(), 1 / shape);
        }
        double d = shape - 1.0 / 3;
        double c = 1 / Math.sqrt(9 * d);
        while (true) {
            double z;
            double v;
            do {
                z = normal(rng);
                v = 1 + c * z;
            } while (v <= 0);
            v = v * v * v;
            double u = rng.nextDouble();
            if (u < 1 - 0.0331 * z * z * z * z || Math.log(u) < 0.5 * z * z + d * (1 - v + Math.log(v))) {
                return d * v;
            }
        }
    }

    static double normal(SplittableRandom rng) {
        double u1 = rng.nextDouble();
        double u2 = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(Math.max(u1, 1e-300))) * Math.cos(2 * Math.PI * u2);
    }
}
