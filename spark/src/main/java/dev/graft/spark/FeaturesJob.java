package dev.graft.spark;

import dev.graft.data.ImageDecoder;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code features}: labelled images to Parquet rows of path, label and pooled backbone features (float array), with
 * the backbone and preprocessing in the metadata, for {@code fit-head}.
 * <pre>
 * spark-submit --class dev.graft.spark.FeaturesJob graft-spark.jar --model mobilenet_v1_0.75 --weights hdfs:///models/mobilenet \
 *     --data hdfs:///photos/train --output hdfs:///features/train
 * </pre>
 */
@Command(name = "features", mixinStandardHelpOptions = true, version = "graft-spark " + dev.graft.train.Version.VERSION, sortOptions = false,
        description = {"Compute pooled backbone features of labelled images on Spark (the features graft's probe is fitted on): rows of path, "
            + "label, features (float array; space-separated text in CSV) and error. The backbone's name, weights and preprocessing go in "
            + "the features column's metadata (Parquet) and in " + FeaturesMeta.SIDE_FILE + " next to the part files."})
public final class FeaturesJob implements Callable<Integer> {
    @Option(names = "--data", required = true, description = "labelled images: a folder with one sub-folder per class (searched recursively; "
            + "a folder with train/ and test/ means its train/), or a CSV (with header) or Parquet table with path,label columns; any Hadoop path")
    String data;

    @Option(names = "--labels", defaultValue = "auto", description = "how --data is labelled: auto, folders, csv or parquet. Default: ${DEFAULT-VALUE}")
    String labels;

    @Option(names = "--model", defaultValue = "resnet18", description = "source architecture, as graft train's --model. Default: ${DEFAULT-VALUE}")
    String model;

    @Option(names = "--weights", required = true, description = "source weights: .pth, .safetensors, Keras .h5, or a TF.js model.json / its folder "
            + "(local, shared, or a Hadoop URI; nothing is downloaded on a cluster)")
    String weights;

    @Option(names = "--output", required = true, description = "output folder")
    String output;

    @Option(names = "--format", defaultValue = "parquet", description = "parquet (fit-head reads it) or csv. Default: ${DEFAULT-VALUE}")
    String format;

    @Option(names = "--normalization", defaultValue = "weights", description = "weights (their own), imagenet or minus1to1. Default: ${DEFAULT-VALUE}")
    String normalization;

    @Option(names = "--image-size", defaultValue = "0", description = "input crop size (0: the weights', 224 for most). Default: ${DEFAULT-VALUE}")
    int imageSize;

    @Option(names = "--short-side-resize", description = "test resize keeps the aspect ratio (torchvision's Resize(256)) instead of the book's 256x256")
    boolean shortSide;

    @Option(names = "--batch-size", defaultValue = "32", description = "images per forward pass. Default: ${DEFAULT-VALUE}")
    int batchSize;

    @Option(names = "--precision", defaultValue = "auto", description = "auto, fp32 or bf16. Default: ${DEFAULT-VALUE}")
    String precision;

    @Option(names = "--threads", defaultValue = "0", description = "libtorch intra-op threads per executor JVM (0: spark.task.cpus). Default: ${DEFAULT-VALUE}")
    int threads;

    @Option(names = "--max-pixels", description = "refuse images whose header declares more pixels. Default: 89478485")
    Long maxPixels;

    @Option(names = "--partitions", defaultValue = "0", description = "spread the files over this many tasks (0: as Spark lists them). Default: ${DEFAULT-VALUE}")
    int partitions;

    @Option(names = "--ship", defaultValue = "auto", description = "auto, always or never: how the weights reach the executors (see score). Default: ${DEFAULT-VALUE}")
    String ship;

    @Option(names = "--overwrite", description = "replace the output folder if it exists")
    boolean overwrite;

    public static void main(String[] args) {
        SparkCheck.require("dev.graft.spark.FeaturesJob");
        Jobs.main(new FeaturesJob(), args);
    }

    @Override
    public Integer call() {
        Jobs.Format fmt = Jobs.Format.parse(format);
        long t0 = System.nanoTime();
        try (Jobs.Session s = Jobs.session("graft features")) {
            SparkSession spark = s.spark();
            Metrics m = new Metrics(spark.sparkContext(), "features");
            FeatureExtractor fx = new FeatureExtractor().setModel(model).setWeights(weights).setNormalization(normalization).setImageSize(imageSize)
                    .setShortSide(shortSide).setBatchSize(batchSize).setPrecision(precision).setThreads(threads)
                    .setMaxPixels(maxPixels == null ? ImageDecoder.DEFAULT_MAX_PIXELS : maxPixels).setShip(ship).setMetrics(m);
            Dataset<Row> images = ImageInput.labelled(spark, data, ImageInput.Labels.parse(labels), Jobs::say);
            if (partitions > 0) {
                images = images.repartitionByRange(partitions, functions.col("path"));
            }
            Dataset<Row> out = fx.transform(images);
            FeaturesMeta meta = fx.lastMetadata();
            Jobs.say("backbone: " + meta.describe());
            long t1 = System.nanoTime();
            Jobs.write(out, output, fmt, overwrite);
            Hadoop.writeString(ImageInput.join(output, FeaturesMeta.SIDE_FILE), meta.toJson() + "\n", spark.sparkContext().hadoopConfiguration());
            double secs = (System.nanoTime() - t1) / 1e9;
            Jobs.say(String.format(Locale.ROOT, "features of %d image(s) (%d bad) from %s in %.1f s (%.1f images/s; listing, loading the "
                    + "backbone and Spark start-up %.1f s more) -> %s (%s)", m.images(), m.errors(), data, secs, m.images() / secs, (t1 - t0) / 1e9,
                    output, fmt.name().toLowerCase(Locale.ROOT)));
            Jobs.say("time: " + m.describe());
            if (m.images() == 0) {
                Jobs.say("warning: no labelled image files found in " + data);
            }
        }
        return 0;
    }
}
