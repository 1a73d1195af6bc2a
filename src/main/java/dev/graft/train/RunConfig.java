package dev.graft.train;

import java.nio.file.Path;

/**
 * A whole training run as the user asked for it, saved as config.json so that {@code --resume} needs nothing else.
 *
 * @param data           dataset root in the book's layout (train/, test/)
 * @param model          zoo name or "keras"
 * @param weights        local weights instead of the zoo download (null: zoo)
 * @param classifier     the source classifier to cut (null: the zoo's or auto-detected)
 * @param normalization  "imagenet", "minus1to1" or null for what the weights say
 * @param imageSize      input crop size (224 in the book)
 * @param shortSide      test resize keeps aspect (torchvision's Resize(256)) instead of the book's 256x256
 * @param perClass       use at most this many training images per class (0: all)
 * @param testPerClass   use at most this many test images per class (0: all)
 * @param recipe         what to learn and how
 * @param workers        loader threads
 * @param onBadImage     "skip" or "fail"
 * @param maxPixels      decompression-bomb limit
 * @param checkpointEvery checkpoint every this many steps (0: at epoch ends only)
 */
public record RunConfig(Path data, String model, Path weights, String classifier, String normalization, int imageSize,
                        boolean shortSide, int perClass, int testPerClass, Recipe recipe, int workers, String onBadImage,
                        long maxPixels, int checkpointEvery) {

    public RunConfig withRecipe(Recipe r) {
        return new RunConfig(data, model, weights, classifier, normalization, imageSize, shortSide, perClass, testPerClass, r,
                workers, onBadImage, maxPixels, checkpointEvery);
    }
}
