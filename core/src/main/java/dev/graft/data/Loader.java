package dev.graft.data;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Batches of transformed images. Decoding and augmentation run on worker threads and prefetch batches ahead of
 * the model. Every random choice of a sample comes from a generator seeded by (seed, epoch, sample), and the order
 * from (seed, epoch): the same seed gives the same batches whatever the thread timing, and a run can resume at any
 * batch without saving generator state.
 */
public final class Loader implements AutoCloseable {
    /** A batch: {@code size} images as NCHW floats, their labels and sample indices. */
    public record Decoded(int index, int size, float[] data, int[] labels, int[] samples) {
    }

    /** Thrown from iteration when a bad image is met under {@link OnBadImage#FAIL}. */
    public static final class BadImageError extends RuntimeException {
        public BadImageError(BadImageException cause) {
            super(cause.getMessage(), cause);
        }
    }

    private final List<ImageFolder.Sample> samples;
    private final Transforms.ImageTransform transform;
    private final int imageFloats;
    private final int batchSize;
    private final boolean shuffle;
    private final long seed;
    private final int prefetch;
    private final OnBadImage policy;
    private final BadImages bad;
    private final ImageDecoder decoder;
    private final ExecutorService pool;
    private final ConcurrentHashMap<Integer, RgbImage> cache = new ConcurrentHashMap<>();
    private final AtomicLong cachedBytes = new AtomicLong();
    private final long cacheBudget;

    public Loader(List<ImageFolder.Sample> samples, Transforms.ImageTransform transform, int imageFloats, int batchSize,
                  boolean shuffle, long seed, int workers, int prefetch, OnBadImage policy, BadImages bad,
                  ImageDecoder decoder, long cacheBudgetBytes) {
        this.samples = List.copyOf(samples);
        this.transform = transform;
        this.imageFloats = imageFloats;
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.seed = seed;
        this.prefetch = Math.max(1, prefetch);
        this.policy = policy;
        this.bad = bad;
        this.decoder = decoder;
        this.cacheBudget = cacheBudgetBytes;
        this.pool = Executors.newFixedThreadPool(Math.max(1, workers), r -> {
            Thread t = new Thread(r, "graft-loader");
            t.setDaemon(true);
            return t;
        });
    }

    public int size() {
        return samples.size();
    }

    /**
     * Batches of one epoch. When training (shuffled) leaves a lone last image, it joins the batch before: BatchNorm
     * cannot compute batch statistics of one image where the activations are 1x1 (small inputs, deep stages).
     */
    public int batchesPerEpoch() {
        int n = samples.size();
        if (shuffle && n > batchSize && n % batchSize == 1) {
            return n / batchSize;
        }
        return (n + batchSize - 1) / batchSize;
    }

    public int batchSize() {
        return batchSize;
    }

    /** The sample order of an epoch: a seeded permutation, or the folder order without shuffling. */
    public int[] order(int epoch) {
        return permutation(seed, samples.size(), shuffle ? epoch : -1);
    }

    /** The order a seed gives to {@code n} items in an epoch (identity for epoch -1). */
    public static int[] permutation(long seed, int n, int epoch) {
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        if (epoch >= 0) {
            SplittableRandom rng = new SplittableRandom(mix(seed, epoch, -1));
            for (int i = n - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                int t = idx[i];
                idx[i] = idx[j];
                idx[j] = t;
            }
        }
        return idx;
    }

    /** A well-mixed 64-bit seed from (seed, epoch, index): every random choice of graft derives from one. */
    public static long mix(long seed, long epoch, long index) {
        long h = seed * 0x9E3779B97F4A7C15L + epoch * 0xC2B2AE3D27D4EB4FL + index * 0x165667B19E3779F9L;
        h ^= h >>> 31;
        h *= 0xBF58476D1CE4E5B9L;
        return h ^ (h >>> 29);
    }

    /** The batches of one epoch, starting at batch {@code fromBatch} (for resuming). */
    public Iterator<Decoded> epoch(int epoch, int fromBatch) {
        return new EpochIterator(epoch, order(epoch), fromBatch);
    }

    private final class EpochIterator implements Iterator<Decoded> {
        private final int epoch;
        private final int[] order;
        private final Deque<Pending> pending = new ArrayDeque<>();
        private int nextToSubmit;
        private final int total;

        EpochIterator(int epoch, int[] order, int fromBatch) {
            this.epoch = epoch;
            this.order = order;
            this.total = batchesPerEpoch();
            this.nextToSubmit = fromBatch;
            while (pending.size() < prefetch && nextToSubmit < total) {
                pending.add(submit(nextToSubmit++));
            }
        }

        @Override
        public boolean hasNext() {
            return !pending.isEmpty();
        }

        @Override
        public Decoded next() {
            if (pending.isEmpty()) {
                throw new NoSuchElementException();
            }
            Pending p = pending.poll();
            if (nextToSubmit < total) {
                pending.add(submit(nextToSubmit++));
            }
            boolean[] ok = new boolean[p.futures.length];
            for (int i = 0; i < p.futures.length; i++) {
                try {
                    ok[i] = p.futures[i].get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while loading images", e);
                } catch (ExecutionException e) {
                    pending.forEach(q -> Arrays.stream(q.futures).forEach(f -> f.cancel(true)));
                    Throwable c = e.getCause();
                    if (c instanceof BadImageError be) {
                        throw be;
                    }
                    throw new IllegalStateException("loading an image failed: " + c, c);
                }
            }
            return compact(p, ok);
        }

        private Pending submit(int b) {
            int start = b * batchSize;
            int n = b == total - 1 ? order.length - start : Math.min(batchSize, order.length - start);
            float[] data = new float[n * imageFloats];
            int[] idx = Arrays.copyOfRange(order, start, start + n);
            @SuppressWarnings("unchecked")
            Future<Boolean>[] futures = new Future[n];
            for (int i = 0; i < n; i++) {
                int slot = i;
                futures[i] = pool.submit(() -> load(idx[slot], epoch, data, slot * imageFloats));
            }
            return new Pending(b, data, idx, futures);
        }
    }

    private record Pending(int index, float[] data, int[] samples, Future<Boolean>[] futures) {
    }

    private Decoded compact(Pending p, boolean[] ok) {
        int n = 0;
        for (boolean b : ok) {
            if (b) {
                n++;
            }
        }
        int[] labels = new int[n];
        int[] idx = new int[n];
        float[] data = p.data();
        int j = 0;
        for (int i = 0; i < ok.length; i++) {
            if (!ok[i]) {
                continue;
            }
            if (i != j) {
                System.arraycopy(data, i * imageFloats, data, j * imageFloats, imageFloats);
            }
            labels[j] = samples.get(p.samples()[i]).label();
            idx[j] = p.samples()[i];
            j++;
        }
        return new Decoded(p.index(), n, data, labels, idx);
    }

    /** Decodes (or takes from the cache) and transforms one sample; false when it was skipped. */
    private boolean load(int sampleIndex, int epoch, float[] out, int offset) {
        ImageFolder.Sample s = samples.get(sampleIndex);
        RgbImage img = cache.get(sampleIndex);
        if (img == null) {
            if (bad.contains(s.path())) {
                return false;
            }
            try {
                img = decoder.decode(s.path());
            } catch (BadImageException e) {
                if (policy == OnBadImage.FAIL) {
                    throw new BadImageError(e);
                }
                bad.add(e);
                return false;
            }
            long bytes = img.rgb().length;
            if (cachedBytes.addAndGet(bytes) <= cacheBudget) {
                cache.put(sampleIndex, img);
            } else {
                cachedBytes.addAndGet(-bytes);
            }
        }
        transform.apply(img, new SplittableRandom(mix(seed, epoch, sampleIndex)), out, offset);
        return true;
    }

    @Override
    public void close() {
        pool.shutdownNow();
        cache.clear();
    }
}
