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
 * {@code score}: images under a Hadoop path or glob, classified with a bundle, to Parquet or CSV.
 * <pre>
 * spark-submit --class dev.graft.spark.ScoreJob graft-spark.jar --bundle runs/hotdog --input 'hdfs:///photos/**' --output hdfs:///scores
 * </pre>
 */
@Command(name = "score", mixinStandardHelpOptions = true, version = "graft-spark " + dev.graft.train.Version.VERSION, sortOptions = false,
        description = {"Classify images with a trained graft bundle on Spark: one output row per image file, with path, label (top-1), "
            + "probability, top_k (label, index, probability; JSON text in CSV) and error (why an image could not be scored; null when it was). "
            + "A bad image is an error row, never a failed job."})
public final class ScoreJob implements Callable<Integer> {
    @Option(names = "--bundle", required = true, description = "model bundle (the --out folder of graft train or fit-head): local, shared, or a Hadoop URI")
    String bundle;

    @Option(names = "--input", required = true, description = "image files: a file, a folder (searched recursively) or a glob, on any file system "
            + "the cluster's Hadoop reads (file:, hdfs:, s3a:, ...). Only .jpg .jpeg .png .bmp .gif files (any case) are read")
    String input;

    @Option(names = "--output", required = true, description = "output folder (Parquet or CSV part files)")
    String output;

    @Option(names = "--format", defaultValue = "parquet", description = "parquet or csv. Default: ${DEFAULT-VALUE}")
    String format;

    @Option(names = "--top-k", defaultValue = "5", description = "classes per image in top_k, most probable first. Default: ${DEFAULT-VALUE}")
    int topK;

    @Option(names = "--batch-size", defaultValue = "16", description = "images per forward pass. Default: ${DEFAULT-VALUE}")
    int batchSize;

    @Option(names = "--engine", defaultValue = "auto", description = "torch (libtorch), onnxruntime (ONNX Runtime on the bundle exported "
            + "in memory, float32) or auto (torch). Default: ${DEFAULT-VALUE}")
    String engine;

    @Option(names = "--precision", defaultValue = "auto", description = "auto (bf16 where the CPU has native bfloat16, else fp32), fp32 or bf16. Default: ${DEFAULT-VALUE}")
    String precision;

    @Option(names = "--threads", defaultValue = "0", description = "libtorch intra-op threads per executor JVM (0: spark.task.cpus). Default: ${DEFAULT-VALUE}")
    int threads;

    @Option(names = "--max-pixels", description = "refuse images whose header declares more pixels (decompression bombs). Default: 89478485 (Pillow's)")
    Long maxPixels;

    @Option(names = "--partitions", defaultValue = "0", description = "spread the files over this many tasks (0: as Spark lists them). Default: ${DEFAULT-VALUE}")
    int partitions;

    @Option(names = "--ship", defaultValue = "auto", description = "auto (send the bundle with the job on a cluster, read it in place in local mode), "
            + "always, or never (a path every executor reads). Default: ${DEFAULT-VALUE}")
    String ship;

    @Option(names = "--overwrite", description = "replace the output folder if it exists")
    boolean overwrite;

    public static void main(String[] args) {
        SparkCheck.require("dev.graft.spark.ScoreJob");
        Jobs.main(new ScoreJob(), args);
    }

    @Override
    public Integer call() {
        Jobs.Format fmt = Jobs.Format.parse(format);
        long t0 = System.nanoTime();
        try (Jobs.Session s = Jobs.session("graft score")) {
            SparkSession spark = s.spark();
            Metrics m = new Metrics(spark.sparkContext(), "score");
            ImageScorer scorer = new ImageScorer().setBundle(bundle).setTopK(topK).setBatchSize(batchSize).setPrecision(precision).setEngine(engine)
                    .setThreads(threads).setMaxPixels(maxPixels == null ? ImageDecoder.DEFAULT_MAX_PIXELS : maxPixels).setShip(ship).setMetrics(m);
            ImageScorer.checkBundle(bundle, spark.sparkContext());
            Dataset<Row> files = ImageInput.list(spark, input);
            if (partitions > 0) {
                files = files.repartitionByRange(partitions, functions.col("path"));
            }
            long t1 = System.nanoTime();
            Jobs.write(scorer.transform(files), output, fmt, overwrite);
            double secs = (System.nanoTime() - t1) / 1e9;
            Jobs.say(String.format(Locale.ROOT, "scored %d image(s) (%d bad) from %s in %.1f s (%.1f images/s; listing and Spark start-up "
                    + "%.1f s more) -> %s (%s)", m.images(), m.errors(), input, secs, m.images() / secs, (t1 - t0) / 1e9, output,
                    fmt.name().toLowerCase(Locale.ROOT)));
            Jobs.say("time: " + m.describe());
            if (m.images() == 0) {
                Jobs.say("warning: no image files found under " + input + " (only .jpg .jpeg .png .bmp .gif are read)");
            }
        }
        return 0;
    }
}
