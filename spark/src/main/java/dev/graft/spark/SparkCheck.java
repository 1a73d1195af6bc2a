package dev.graft.spark;

/** Says so in words when the jar runs without Spark (it leaves Spark out: spark-submit provides it). No Spark types here. */
final class SparkCheck {
    private SparkCheck() {
    }

    static void require(String job) {
        try {
            Class.forName("org.apache.spark.sql.SparkSession", false, SparkCheck.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            System.err.println("graft-spark: error: Apache Spark is not on the classpath. graft-spark.jar leaves Spark out: run it with "
                    + "spark-submit, e.g. spark-submit --class " + job + " graft-spark.jar --help (docs/SPARK.md)");
            System.exit(2);
        }
    }
}
