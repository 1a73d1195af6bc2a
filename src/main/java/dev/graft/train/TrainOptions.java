package dev.graft.train;

import dev.graft.data.ImageDecoder;
import dev.graft.data.Loader;

import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * How a run executes, as opposed to what it learns (that is the {@link Recipe}): threads, prefetching, bad-image
 * policy, caching and checkpoints.
 *
 * @param workers          loader threads decoding and augmenting images
 * @param prefetch         batches prepared ahead of the model
 * @param evalBatchSize    batch size for evaluation and feature extraction
 * @param onBadImage       skip (counted, listed) or fail (stop naming the file)
 * @param maxPixels        decompression-bomb limit checked from the header
 * @param cacheBytes       decoded images kept in memory between epochs
 * @param cacheFeatures    frozen body without augmentation: compute body features once, train the head on them
 * @param checkpoint       checkpoint file (null: none)
 * @param checkpointEvery  also checkpoint every this many optimizer steps (0: only at epoch ends)
 * @param log              where progress lines go
 */
public record TrainOptions(int workers, int prefetch, int evalBatchSize, Loader.OnBadImage onBadImage, long maxPixels,
                           long cacheBytes, boolean cacheFeatures, Path checkpoint, int checkpointEvery,
                           Consumer<String> log) {

    public static TrainOptions defaults(Consumer<String> log) {
        int cores = Runtime.getRuntime().availableProcessors();
        return new TrainOptions(Math.max(1, Math.min(4, cores)), 2, 64, Loader.OnBadImage.SKIP,
                ImageDecoder.DEFAULT_MAX_PIXELS, 1L << 30, true, null, 0, log);
    }

    public TrainOptions withCheckpoint(Path file, int every) {
        return new TrainOptions(workers, prefetch, evalBatchSize, onBadImage, maxPixels, cacheBytes, cacheFeatures, file, every, log);
    }

    public TrainOptions withOnBadImage(Loader.OnBadImage p) {
        return new TrainOptions(workers, prefetch, evalBatchSize, p, maxPixels, cacheBytes, cacheFeatures, checkpoint, checkpointEvery, log);
    }

    public TrainOptions withWorkers(int w) {
        return new TrainOptions(w, prefetch, evalBatchSize, onBadImage, maxPixels, cacheBytes, cacheFeatures, checkpoint, checkpointEvery, log);
    }

    public TrainOptions withCacheFeatures(boolean c) {
        return new TrainOptions(workers, prefetch, evalBatchSize, onBadImage, maxPixels, cacheBytes, c, checkpoint, checkpointEvery, log);
    }

    public TrainOptions withMaxPixels(long m) {
        return new TrainOptions(workers, prefetch, evalBatchSize, onBadImage, m, cacheBytes, cacheFeatures, checkpoint, checkpointEvery, log);
    }
}
