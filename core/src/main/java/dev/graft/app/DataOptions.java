package dev.graft.app;

import dev.graft.data.DataSplits;
import dev.graft.data.ImageDecoder;
import dev.graft.data.OnBadImage;
import dev.graft.model.nn.Precision;
import dev.graft.train.RunConfig;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Where the images and the source model come from, and how to read them. */
final class DataOptions {
    @Option(names = "--data", description = "dataset folder: the book's layout (DIR/train/<class>/*, DIR/test/<class>/*), or one folder "
            + "of class sub-folders (DIR/<class>/*; a test set is held out, see --test-split)")
    Path data;

    @Option(names = "--labels", description = "a CSV with columns file,label[,split] (fastai's from_csv, Kaggle's layout); file names "
            + "are relative to the CSV's folder and must lie inside it (or inside --data DIR when given); split is train, valid or test")
    Path labels;

    @Option(names = "--exclude", paramLabel = "FILE", description = "leave out the images this file lists: one per line, or a CSV with a "
            + "file column (rows whose action column says exclude, when it has one: graft check's suggestions.csv). Names are relative "
            + "to the file's folder and matched by real path; the files themselves are never touched")
    Path exclude;

    @Option(names = "--test-split", converter = Ranges.Fraction.class, description = "share of each class held out as the test set when the "
            + "data has no test set of its own (default " + DataSplits.DEFAULT_TEST_SPLIT + " then)")
    Double testSplit;

    @Option(names = "--split-seed", defaultValue = "0", description = "seeds --test-split, so every run is scored on the same test images. Default: ${DEFAULT-VALUE}")
    long splitSeed;

    @Option(names = "--model", defaultValue = "resnet18", description = "source architecture (graft models lists them). Default: ${DEFAULT-VALUE}")
    String model;

    @Option(names = "--weights", description = "local weights instead of downloading: .pth, .safetensors, Keras .h5, or a TF.js model.json / its folder")
    Path weights;

    @Option(names = "--classifier", description = "the source classifier to cut (Keras layer name); found automatically if omitted")
    String classifier;

    @Option(names = "--normalization", description = "override the weights' input normalization: imagenet or minus1to1")
    RunConfig.Normalization normalization;

    @Option(names = "--image-size", converter = Ranges.ImageSize.class, description = "input crop size (default: the weights', 224 for most)")
    Integer imageSize;

    @Option(names = "--short-side-resize", description = "test resize keeps the aspect ratio (torchvision's Resize(256)) instead of the book's 256x256")
    boolean shortSide;

    @Option(names = "--per-class", converter = Ranges.AtLeastZero.class, defaultValue = "0", description = "use at most N training images per class (0: all)")
    int perClass;

    @Option(names = "--test-per-class", converter = Ranges.AtLeastZero.class, defaultValue = "0", description = "use at most N test images per class (0: all)")
    int testPerClass;

    @Option(names = "--workers", converter = Ranges.AtLeastZero.class, defaultValue = "0", description = "image loader threads (0: one per core, up to 4)")
    int workers;

    @Option(names = "--threads", converter = Ranges.AtLeastZero.class, defaultValue = "0", description = "engine compute threads (0: the engine's default, one per core)")
    int threads;

    @Option(names = "--on-bad-image", defaultValue = "skip", description = "skip (counted, listed in the report) or fail (stop, naming the file). Default: ${DEFAULT-VALUE}")
    OnBadImage onBadImage;

    @Option(names = "--max-pixels", converter = Ranges.PositiveLong.class, defaultValue = "" + ImageDecoder.DEFAULT_MAX_PIXELS, description = "refuse images whose header declares more pixels (decompression bombs). Default: ${DEFAULT-VALUE}")
    long maxPixels;

    @Option(names = "--tta", converter = Ranges.AtLeastZero.class, defaultValue = "0", description = "also evaluate the test images with "
            + "test-time augmentation: N flipped and cropped views mixed with the plain prediction (fastai: 4). Default: ${DEFAULT-VALUE}")
    int tta;

    @Option(names = "--precision", defaultValue = "auto", description = "auto (bf16 where the CPU has native bfloat16, else fp32), fp32 or bf16. Default: ${DEFAULT-VALUE}")
    Precision precision;

    /** The data root: --data, or the folder of the --labels CSV. */
    Path root() {
        if (data == null && labels == null) {
            throw new IllegalArgumentException("--data DIR (or --labels FILE.csv) is required; DIR is the book's layout (DIR/train/<class>/*, "
                    + "DIR/test/<class>/*) or one folder of class sub-folders");
        }
        return data != null ? data : labels.toAbsolutePath().getParent();
    }

    /** Where the images come from; data without a test set gets the default test split. */
    DataSplits.Source source() {
        DataSplits.Source s = new DataSplits.Source(root(), labels, testSplit == null ? 0 : testSplit, splitSeed);
        if (testSplit == null && s.carvesTest()) {
            s = new DataSplits.Source(s.root(), labels, DataSplits.DEFAULT_TEST_SPLIT, splitSeed);
        }
        return exclude == null ? s : s.withExclude(exclude);
    }

    @Option(names = "--no-tune", description = "keep graft's fixed kernel choices instead of the ones measured fastest on this machine (also GRAFT_TUNE=off)")
    boolean noTune;

    /** The run these options describe, with its recipe. */
    RunConfig.Builder config(dev.graft.train.Recipe recipe, int checkpointEvery) {
        if (noTune) {
            System.setProperty("graft.tune", "off");
        }
        DataSplits.Source src = source();
        return RunConfig.builder(src.root(), model, recipe).labels(labels).testSplit(src.testSplit()).splitSeed(splitSeed).weights(weights).classifier(classifier)
                .normalization(normalization == null ? RunConfig.Normalization.WEIGHTS : normalization)
                .imageSize(imageSize == null ? 0 : imageSize).shortSide(shortSide).perClass(perClass).testPerClass(testPerClass)
                .workers(workers).onBadImage(onBadImage).maxPixels(maxPixels).checkpointEvery(checkpointEvery).precision(precision).tta(tta).exclude(exclude);
    }

    /** The number of training images the run will use, for the auto recipe (0 for the other presets: not needed). */
    int trainSize(dev.graft.train.Recipe.Preset preset) {
        if (preset != dev.graft.train.Recipe.Preset.AUTO) {
            return 0;
        }
        return dev.graft.data.DataSplits.load(source(), perClass, 0, 0, 0, s -> { }).train().size();
    }
}
