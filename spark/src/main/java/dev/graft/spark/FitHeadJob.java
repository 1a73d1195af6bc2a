package dev.graft.spark;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code fit-head}: features (from {@code features}) to a normal graft bundle, the head fitted by graft's probe on the
 * driver when the features fit there, else by Spark MLlib's logistic regression.
 * <pre>
 * spark-submit --class dev.graft.spark.FitHeadJob graft-spark.jar --features hdfs:///features/train --out runs/photos
 * </pre>
 */
@Command(name = "fit-head", mixinStandardHelpOptions = true, version = "graft-spark " + dev.graft.train.Version.VERSION, sortOptions = false,
        description = {"Fit a new head on backbone features (the output of features) and write a graft bundle that graft predict, serve, "
            + "the Java API and score use like any other: the body from the source weights in the features' metadata, the head by "
            + "graft's probe (logistic regression, lambda by 5-fold cross-validation) on the driver when the features fit there, else "
            + "by Spark MLlib's multinomial logistic regression (same objective; its lambda from graft's cross-validation on a sample)."})
public final class FitHeadJob implements Callable<Integer> {
    @Option(names = "--features", required = true, description = "training features written by the features job (Parquet or CSV folder)")
    String features;

    @Option(names = "--out", required = true, description = "the bundle folder to write (local, or a Hadoop URI)")
    String out;

    @Option(names = "--test-features", description = "features of test images (same backbone): their accuracy is printed and recorded in the bundle")
    String testFeatures;

    @Option(names = "--method", defaultValue = "auto", description = "auto (driver when the features fit in its memory, else mllib), driver or mllib. Default: ${DEFAULT-VALUE}")
    String method;

    @Option(names = "--lambda", defaultValue = "0", description = "L2 strength (mean loss + lambda/2 |W|^2); 0: chosen by cross-validation. Default: ${DEFAULT-VALUE}")
    double lambda;

    @Option(names = "--seed", defaultValue = "1", description = "cross-validation folds and sampling, as graft train's --seed. Default: ${DEFAULT-VALUE}")
    long seed;

    @Option(names = "--weights", description = "the source weights for the bundle's body (default: the path recorded with the features; checked by SHA-256)")
    String weights;

    @Option(names = "--max-driver-rows", defaultValue = "0", description = "most feature rows fitted on the driver with auto (0: what half its heap holds at about 32 bytes per feature value). Default: ${DEFAULT-VALUE}")
    long maxDriverRows;

    @Option(names = "--max-iter", defaultValue = "500", description = "most L-BFGS iterations of the MLlib fit. Default: ${DEFAULT-VALUE}")
    int maxIter;

    @Option(names = "--format", defaultValue = "auto", description = "of the features: auto, parquet or csv. Default: ${DEFAULT-VALUE}")
    String format;

    @Option(names = "--overwrite", description = "replace the bundle in --out if there is one")
    boolean overwrite;

    public static void main(String[] args) {
        SparkCheck.require("dev.graft.spark.FitHeadJob");
        Jobs.main(new FitHeadJob(), args);
    }

    @Override
    public Integer call() {
        long t0 = System.nanoTime();
        try (Jobs.Session s = Jobs.session("graft fit-head")) {
            SparkSession spark = s.spark();
            HeadFitter fitter = new HeadFitter().setBundle(out).setMethod(method).setLambda(lambda).setSeed(seed).setMaxDriverRows(maxDriverRows)
                    .setMaxIter(maxIter).setOverwrite(overwrite).setDataName(features).setLog(Jobs::say);
            if (weights != null) {
                fitter.setWeights(weights);
            }
            if (testFeatures != null) {
                fitter.setTestFeatures(read(spark, testFeatures, format));
            }
            HeadModel model = fitter.fit(read(spark, features, format));
            Jobs.say(String.format(Locale.ROOT, "done in %.1f s: %s (%d classes); try: graft predict --model %s IMAGE", (System.nanoTime() - t0) / 1e9,
                    model.getBundle(), model.labels().size(), model.getBundle()));
        }
        return 0;
    }

    /** Features written by the features job, with their metadata on the features column (Parquet keeps it; CSV has the side file). */
    public static Dataset<Row> read(SparkSession spark, String path, String format) {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        boolean csv = switch (format.toLowerCase(Locale.ROOT)) {
            case "csv" -> true;
            case "parquet" -> false;
            case "auto" -> isCsv(path, conf);
            default -> throw new IllegalArgumentException("--format must be auto, parquet or csv, not '" + format + "'");
        };
        String side = Hadoop.readString(ImageInput.join(path, FeaturesMeta.SIDE_FILE), conf);
        if (csv) {
            if (side == null) {
                throw new IllegalArgumentException(path + " holds CSV features without " + FeaturesMeta.SIDE_FILE + " (the backbone they come from)");
            }
            FeaturesMeta meta = FeaturesMeta.fromJson(side, ImageInput.join(path, FeaturesMeta.SIDE_FILE));
            Dataset<Row> df = spark.read().option("header", "true").option("escape", "\"").csv(path);
            return df.withColumn("features", functions.split(functions.col("features"), " ")
                    .cast(DataTypes.createArrayType(DataTypes.FloatType)).as("features", meta.toMetadata()));
        }
        Dataset<Row> df = spark.read().parquet(path);
        if (side != null && FeaturesMeta.of(df.schema(), "features", path) == null) {
            FeaturesMeta meta = FeaturesMeta.fromJson(side, ImageInput.join(path, FeaturesMeta.SIDE_FILE));
            df = df.withColumn("features", functions.col("features").as("features", meta.toMetadata()));
        }
        return df;
    }

    private static boolean isCsv(String path, Configuration conf) {
        if (path.toLowerCase(Locale.ROOT).endsWith(".csv")) {
            return true;
        }
        try {
            Path p = new Path(path);
            FileSystem fs = p.getFileSystem(conf);
            if (!fs.exists(p)) {
                throw new IllegalArgumentException("features " + path + " do not exist");
            }
            if (!fs.getFileStatus(p).isDirectory()) {
                return false;
            }
            for (FileStatus f : fs.listStatus(p)) {
                String n = f.getPath().getName();
                if (n.endsWith(".csv") || n.contains(".csv.")) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": " + e.getMessage(), e);
        }
    }
}
