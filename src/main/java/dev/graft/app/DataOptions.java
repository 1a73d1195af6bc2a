package dev.graft.app;

import dev.graft.data.ImageDecoder;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Where the images and the source model come from, and how to read them. */
final class DataOptions {
    @Option(names = "--data", description = "dataset folder in the book's layout: DIR/train/<class>/*, DIR/test/<class>/*")
    Path data;

    @Option(names = "--model", defaultValue = "resnet18", description = "resnet18, resnet34, resnet50, mobilenet_v1[_0.25|_0.50|_0.75|_1.0], or keras (with --weights). Default: ${DEFAULT-VALUE}")
    String model;

    @Option(names = "--weights", description = "local weights instead of downloading: .pth, .safetensors, or a TF.js model.json / its folder")
    Path weights;

    @Option(names = "--classifier", description = "the source classifier to cut (Keras layer name); found automatically if omitted")
    String classifier;

    @Option(names = "--normalization", description = "override the weights' input normalization: imagenet or minus1to1")
    String normalization;

    @Option(names = "--image-size", defaultValue = "224", description = "input crop size. Default: ${DEFAULT-VALUE}")
    int imageSize;

    @Option(names = "--short-side-resize", description = "test resize keeps the aspect ratio (torchvision's Resize(256)) instead of the book's 256x256")
    boolean shortSide;

    @Option(names = "--per-class", defaultValue = "0", description = "use at most N training images per class (0: all)")
    int perClass;

    @Option(names = "--test-per-class", defaultValue = "0", description = "use at most N test images per class (0: all)")
    int testPerClass;

    @Option(names = "--workers", defaultValue = "0", description = "image loader threads (0: one per core, up to 4)")
    int workers;

    @Option(names = "--threads", defaultValue = "0", description = "engine compute threads (0: the engine's default, one per core)")
    int threads;

    @Option(names = "--on-bad-image", defaultValue = "skip", description = "skip (counted, listed in the report) or fail (stop, naming the file). Default: ${DEFAULT-VALUE}")
    String onBadImage;

    @Option(names = "--max-pixels", defaultValue = "" + ImageDecoder.DEFAULT_MAX_PIXELS, description = "refuse images whose header declares more pixels (decompression bombs). Default: ${DEFAULT-VALUE}")
    long maxPixels;
}
