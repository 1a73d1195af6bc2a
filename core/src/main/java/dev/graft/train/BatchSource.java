package dev.graft.train;

import ai.djl.ndarray.types.Shape;
import dev.graft.data.BadImages;
import dev.graft.data.ImageDecoder;
import dev.graft.data.ImageFolder;
import dev.graft.data.Loader;
import dev.graft.data.Preprocessing;
import dev.graft.data.Transforms;

import java.util.Iterator;

/**
 * Where the training loop's batches come from: transformed images, or body features computed once (frozen body,
 * no augmentation). Orders are seeded by (seed, epoch), so any batch can be replayed on resume.
 */
public interface BatchSource extends AutoCloseable {

    /**
     * A batch: images (NCHW) or feature vectors, their labels and sample indices, and target distributions (N x
     * classes, row-major) when they are not the labels' one-hot rows (MixUp, CutMix); null otherwise.
     */
    record Batch(int size, float[] data, Shape shape, int[] labels, int[] samples, boolean features, float[] targets) {
        public Batch(int size, float[] data, Shape shape, int[] labels, int[] samples, boolean features) {
            this(size, data, shape, labels, samples, features, null);
        }
    }

    int batchesPerEpoch();

    int batchSize();

    /** Whether batches hold cached feature vectors rather than images. */
    boolean features();

    /** The side of the square input images (0 for features). */
    int imageSize();

    /** The batches of one epoch from {@code fromBatch} on. */
    Iterator<Batch> epoch(int epoch, int fromBatch);

    /** A sample's file, for messages. */
    String describe(int sample);

    @Override
    void close();

    /** Images decoded and transformed on loader threads, prefetched ahead of the model. */
    static BatchSource images(ImageFolder folder, Transforms.ImageTransform transform, Preprocessing pre, int batchSize,
                              long seed, TrainOptions opts, BadImages bad) {
        int floats = Transforms.size(pre);
        Loader loader = new Loader(folder.samples(), transform, floats, batchSize, true, seed, opts.workers(), opts.prefetch(),
                opts.onBadImage(), bad, new ImageDecoder(opts.maxPixels()), opts.cacheBytes());
        Shape image = new Shape(3, pre.crop(), pre.crop());
        return new BatchSource() {
            @Override
            public int batchesPerEpoch() {
                return loader.batchesPerEpoch();
            }

            @Override
            public int batchSize() {
                return batchSize;
            }

            @Override
            public boolean features() {
                return false;
            }

            @Override
            public int imageSize() {
                return pre.crop();
            }

            @Override
            public Iterator<Batch> epoch(int epoch, int fromBatch) {
                Iterator<Loader.Decoded> it = loader.epoch(epoch, fromBatch);
                return new Iterator<>() {
                    @Override
                    public boolean hasNext() {
                        return it.hasNext();
                    }

                    @Override
                    public Batch next() {
                        Loader.Decoded b = it.next();
                        return new Batch(b.size(), b.data(), new Shape(b.size()).addAll(image), b.labels(), b.samples(), false);
                    }
                };
            }

            @Override
            public String describe(int sample) {
                return folder.samples().get(sample).path().toString();
            }

            @Override
            public void close() {
                loader.close();
            }
        };
    }

    /** Cached feature vectors in a seeded order per epoch. */
    static BatchSource features(FeatureSet fs, ImageFolder folder, int batchSize, long seed) {
        int d = fs.dim();
        return new BatchSource() {
            @Override
            public int batchesPerEpoch() {
                return (fs.size() + batchSize - 1) / batchSize;
            }

            @Override
            public int batchSize() {
                return batchSize;
            }

            @Override
            public boolean features() {
                return true;
            }

            @Override
            public int imageSize() {
                return 0;
            }

            @Override
            public Iterator<Batch> epoch(int epoch, int fromBatch) {
                int[] order = Loader.permutation(seed, fs.size(), epoch);
                return new Iterator<>() {
                    int b = fromBatch;

                    @Override
                    public boolean hasNext() {
                        return (long) b * batchSize < order.length;
                    }

                    @Override
                    public Batch next() {
                        int start = b++ * batchSize;
                        int n = Math.min(batchSize, order.length - start);
                        float[] x = new float[n * d];
                        int[] y = new int[n];
                        int[] s = new int[n];
                        for (int i = 0; i < n; i++) {
                            System.arraycopy(fs.features(), order[start + i] * d, x, i * d, d);
                            y[i] = fs.labels()[order[start + i]];
                            s[i] = fs.samples()[order[start + i]];
                        }
                        return new Batch(n, x, new Shape(n, d), y, s, true);
                    }
                };
            }

            @Override
            public String describe(int sample) {
                return folder.samples().get(sample).path().toString();
            }

            @Override
            public void close() {
            }
        };
    }

    /** {@code first}'s batches for epochs before {@code switchEpoch}, then {@code second}'s (head-only epochs on cached features). */
    static BatchSource phased(BatchSource first, BatchSource second, int switchEpoch) {
        return new BatchSource() {
            int current = 0;

            @Override
            public int batchesPerEpoch() {
                return (current < switchEpoch ? first : second).batchesPerEpoch();
            }

            @Override
            public int batchSize() {
                return second.batchSize();
            }

            @Override
            public boolean features() {
                return current < switchEpoch && first.features();
            }

            @Override
            public int imageSize() {
                return second.imageSize();
            }

            @Override
            public Iterator<Batch> epoch(int epoch, int fromBatch) {
                current = epoch;
                return (epoch < switchEpoch ? first : second).epoch(epoch, fromBatch);
            }

            @Override
            public String describe(int sample) {
                return second.describe(sample);
            }

            @Override
            public void close() {
                first.close();
                second.close();
            }
        };
    }
}
