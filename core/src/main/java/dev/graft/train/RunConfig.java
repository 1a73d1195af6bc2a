package dev.graft.train;

import dev.graft.data.ImageDecoder;
import dev.graft.data.OnBadImage;
import dev.graft.model.nn.Precision;

import java.nio.file.Path;
import java.util.Locale;

/**
 * A whole training run as the user asked for it, saved as config.json so that {@code --resume} needs nothing else.
 *
 * @param data           dataset root: the book's layout (train/, test/), or one folder of class sub-folders, or the
 *                       folder a labels CSV's file names are relative to
 * @param model          --model name (see graft models)
 * @param weights        local weights instead of the zoo download (null: zoo)
 * @param classifier     the source classifier to cut (null: the zoo's or auto-detected)
 * @param normalization  the weights' own input normalization, or an override
 * @param imageSize      input crop size (0: the weights' own, 224 in the book)
 * @param shortSide      test resize keeps aspect (torchvision's Resize(256)) instead of the book's 256x256
 * @param perClass       use at most this many training images per class (0: all)
 * @param testPerClass   use at most this many test images per class (0: all)
 * @param recipe         what to learn and how
 * @param workers        loader threads (0: one per core, up to 4)
 * @param onBadImage     skip or fail
 * @param maxPixels      decompression-bomb limit
 * @param checkpointEvery checkpoint every this many steps (0: at epoch ends only)
 * @param precision      fp32, bf16, or auto (bf16 where the CPU has it natively)
 * @param tta            test-time augmentation views for the final evaluation (0: none)
 * @param lrFind         the learning-rate sweep that chose the recipe's lr (--lr find), or null
 * @param labels         a CSV of file,label[,split] rows instead of class folders (null: folders)
 * @param testSplit      share of each class held out as the test set when the data has none (0: the data's own)
 * @param splitSeed      seeds that test split (the data's seed, independent of the recipe's)
 * @param exclude        a list of images to leave out (train --exclude; null: none), see {@link dev.graft.data.Exclusions}
 */
public record RunConfig(Path data, String model, Path weights, String classifier, Normalization normalization, int imageSize,
                        boolean shortSide, int perClass, int testPerClass, Recipe recipe, int workers, OnBadImage onBadImage,
                        long maxPixels, int checkpointEvery, Precision precision, int tta, LrFinder.Sweep lrFind,
                        Path labels, double testSplit, long splitSeed, Path exclude) {

    public RunConfig {
        if (data == null && labels == null) {
            throw new IllegalArgumentException("a run needs --data DIR or --labels FILE.csv");
        }
        if (model == null || model.isBlank()) {
            throw new IllegalArgumentException("a run needs --model (graft models lists them)");
        }
        if (recipe == null) {
            throw new IllegalArgumentException("a run needs a recipe");
        }
        if (imageSize != 0 && (imageSize < MIN_IMAGE_SIZE || imageSize > MAX_IMAGE_SIZE)) {
            throw new IllegalArgumentException("--image-size must be between " + MIN_IMAGE_SIZE + " and " + MAX_IMAGE_SIZE
                    + " pixels (or 0: the weights' own), not " + imageSize);
        }
        if (perClass < 0 || testPerClass < 0) {
            throw new IllegalArgumentException("--per-class and --test-per-class must be 0 (all) or more, not " + perClass + " / " + testPerClass);
        }
        if (workers < 0 || checkpointEvery < 0 || tta < 0) {
            throw new IllegalArgumentException("--workers, --checkpoint-every and --tta must be 0 or more");
        }
        if (maxPixels < 1) {
            throw new IllegalArgumentException("--max-pixels must be at least 1, not " + maxPixels);
        }
        if (!(testSplit >= 0 && testSplit < 1)) {
            throw new IllegalArgumentException("--test-split must be in [0, 1), not " + testSplit);
        }
        if (onBadImage == null || precision == null || normalization == null) {
            throw new IllegalArgumentException("a run needs its bad-image policy, precision and normalization");
        }
    }

    /** The input sizes graft accepts (the CLI checks the same range). */
    public static final int MIN_IMAGE_SIZE = 16;
    public static final int MAX_IMAGE_SIZE = 4096;

    /** Input normalization: what the weights were trained with, or a forced one. */
    public enum Normalization {
        WEIGHTS, IMAGENET, MINUS1TO1;

        public static Normalization parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT).replace("-", "").replace("_", "")) {
                case "weights", "auto" -> WEIGHTS;
                case "imagenet" -> IMAGENET;
                case "minus1to1" -> MINUS1TO1;
                default -> throw new IllegalArgumentException("--normalization must be imagenet or minus1to1, not '" + s + "'");
            };
        }
    }

    /** Where the images and labels come from. */
    public dev.graft.data.DataSplits.Source source() {
        return new dev.graft.data.DataSplits.Source(data, labels, testSplit, splitSeed, exclude);
    }

    /** A run on {@code data} with {@code model} and everything else at its default. */
    public static Builder builder(Path data, String model, Recipe recipe) {
        return new Builder(new RunConfig(data, model, null, null, Normalization.WEIGHTS, 0, false, 0, 0, recipe, 0,
                OnBadImage.SKIP, ImageDecoder.DEFAULT_MAX_PIXELS, 0, Precision.AUTO, 0, null, null, 0, 0, null));
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Changes some fields of a run configuration. */
    public static final class Builder {
        private Path data;
        private String model;
        private Path weights;
        private String classifier;
        private Normalization normalization;
        private int imageSize;
        private boolean shortSide;
        private int perClass;
        private int testPerClass;
        private Recipe recipe;
        private int workers;
        private OnBadImage onBadImage;
        private long maxPixels;
        private int checkpointEvery;
        private Precision precision;
        private int tta;
        private LrFinder.Sweep lrFind;
        private Path labels;
        private double testSplit;
        private long splitSeed;
        private Path exclude;

        Builder(RunConfig c) {
            data = c.data;
            model = c.model;
            weights = c.weights;
            classifier = c.classifier;
            normalization = c.normalization;
            imageSize = c.imageSize;
            shortSide = c.shortSide;
            perClass = c.perClass;
            testPerClass = c.testPerClass;
            recipe = c.recipe;
            workers = c.workers;
            onBadImage = c.onBadImage;
            maxPixels = c.maxPixels;
            checkpointEvery = c.checkpointEvery;
            precision = c.precision;
            tta = c.tta;
            lrFind = c.lrFind;
            labels = c.labels;
            testSplit = c.testSplit;
            splitSeed = c.splitSeed;
            exclude = c.exclude;
        }

        public Builder weights(Path v) {
            weights = v;
            return this;
        }

        public Builder classifier(String v) {
            classifier = v;
            return this;
        }

        public Builder normalization(Normalization v) {
            normalization = v;
            return this;
        }

        public Builder imageSize(int v) {
            imageSize = v;
            return this;
        }

        public Builder shortSide(boolean v) {
            shortSide = v;
            return this;
        }

        public Builder perClass(int v) {
            perClass = v;
            return this;
        }

        public Builder testPerClass(int v) {
            testPerClass = v;
            return this;
        }

        public Builder recipe(Recipe v) {
            recipe = v;
            return this;
        }

        public Builder workers(int v) {
            workers = v;
            return this;
        }

        public Builder onBadImage(OnBadImage v) {
            onBadImage = v;
            return this;
        }

        public Builder maxPixels(long v) {
            maxPixels = v;
            return this;
        }

        public Builder checkpointEvery(int v) {
            checkpointEvery = v;
            return this;
        }

        public Builder precision(Precision v) {
            precision = v;
            return this;
        }

        public Builder tta(int v) {
            tta = v;
            return this;
        }

        public Builder lrFind(LrFinder.Sweep v) {
            lrFind = v;
            return this;
        }

        public Builder labels(Path v) {
            labels = v;
            return this;
        }

        public Builder testSplit(double v) {
            testSplit = v;
            return this;
        }

        public Builder splitSeed(long v) {
            splitSeed = v;
            return this;
        }

        public Builder exclude(Path v) {
            exclude = v;
            return this;
        }

        public RunConfig build() {
            return new RunConfig(data, model, weights, classifier, normalization, imageSize, shortSide, perClass, testPerClass,
                    recipe, workers, onBadImage, maxPixels, checkpointEvery, precision, tta, lrFind, labels, testSplit, splitSeed, exclude);
        }
    }
}
