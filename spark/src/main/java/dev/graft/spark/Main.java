package dev.graft.spark;

import picocli.CommandLine.Command;

/**
 * The jar's entry point: {@code spark-submit graft-spark.jar score|features|fit-head ...}; each job also has its own
 * main ({@code --class dev.graft.spark.ScoreJob}, {@code FeaturesJob}, {@code FitHeadJob}).
 */
@Command(name = "graft-spark", mixinStandardHelpOptions = true, version = "graft-spark " + dev.graft.train.Version.VERSION, subcommands = {ScoreJob.class, FeaturesJob.class, FitHeadJob.class},
        description = {"graft on Apache Spark: score images with a bundle, compute backbone features, fit a head (docs/SPARK.md)."})
public final class Main implements Runnable {
    public static void main(String[] args) {
        SparkCheck.require("dev.graft.spark.ScoreJob");
        Jobs.main(new Main(), args);
    }

    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.err);
    }
}
