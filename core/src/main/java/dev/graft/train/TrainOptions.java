package dev.graft.train;

import dev.graft.data.ImageDecoder;
import dev.graft.data.OnBadImage;

import java.util.function.Consumer;

/**
 * How a run executes, as opposed to what it learns (that is the {@link Recipe}): threads, prefetching, bad-image
 * policy and caching.
 *
 * @param workers          loader threads decoding and augmenting images
 * @param prefetch         batches prepared ahead of the model
 * @param evalBatchSize    batch size for evaluation and feature extraction
 * @param onBadImage       skip (counted, listed) or fail (stop naming the file)
 * @param maxPixels        decompression-bomb limit checked from the header
 * @param cacheBytes       decoded images kept in memory between epochs
 * @param cacheFeatures    frozen body without augmentation: compute body features once, train the head on them
 * @param log              where progress lines go
 */
public record TrainOptions(int workers, int prefetch, int evalBatchSize, OnBadImage onBadImage, long maxPixels,
                           long cacheBytes, boolean cacheFeatures, Consumer<String> log) {

    public static TrainOptions defaults(Consumer<String> log) {
        int cores = Runtime.getRuntime().availableProcessors();
        return new TrainOptions(Math.max(1, Math.min(4, cores)), 2, 64, OnBadImage.SKIP,
                ImageDecoder.DEFAULT_MAX_PIXELS, 1L << 30, true, log);
    }

    /** The execution options a run configuration asks for. */
    public static TrainOptions of(RunConfig cfg, Consumer<String> log) {
        TrainOptions d = defaults(log);
        return new TrainOptions(cfg.workers() > 0 ? cfg.workers() : d.workers(), d.prefetch(), d.evalBatchSize(),
                cfg.onBadImage(), cfg.maxPixels(), d.cacheBytes(), d.cacheFeatures(), log);
    }

    public TrainOptions withWorkers(int w) {
        return new TrainOptions(w, prefetch, evalBatchSize, onBadImage, maxPixels, cacheBytes, cacheFeatures, log);
    }
}
