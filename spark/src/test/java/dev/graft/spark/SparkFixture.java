package dev.graft.spark;

import com.fasterxml.jackson.databind.JsonNode;
import dev.graft.util.Json;
import org.apache.spark.sql.SparkSession;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the Spark tests share in one test JVM: one SparkSession (local[2], loopback only), one probe bundle trained
 * by graft's own CLI, and the backbone features of the hotdog set computed once by the features job.
 */
final class SparkFixture {
    static final String MODEL = "mobilenet_v1_0.75";
    private static SparkSession spark;
    private static Path work;
    private static Path probe;
    private static Path trainFeatures;
    private static Path testFeatures;

    private SparkFixture() {
    }

    static Path shared(String relative) {
        Path p = Path.of(System.getProperty("graft.shared", "../shared")).resolve(relative).toAbsolutePath().normalize();
        if (!Files.exists(p)) {
            throw new IllegalStateException("test fixture " + p + " is missing: the Spark tests need ../shared beside the repository");
        }
        return p;
    }

    static Path hotdog() {
        return shared("data/hotdog");
    }

    static Path weights() {
        return shared("models/keras-mobilenet_v1_0.75_224");
    }

    static synchronized SparkSession spark() {
        if (spark == null) {
            spark = SparkSession.builder().master("local[2]").appName("graft-spark-tests")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.ui.enabled", "false")
                    .config("spark.sql.shuffle.partitions", "4")
                    .config("spark.hadoop.fs.testfs.impl", TestFs.class.getName())
                    .config("spark.hadoop.fs.testfs.impl.disable.cache", "true")
                    .getOrCreate();
            spark.sparkContext().setLogLevel("WARN");
        }
        return spark;
    }

    static synchronized Path work() throws IOException {
        if (work == null) {
            work = Files.createTempDirectory("graft-spark-test");
        }
        return work;
    }

    /** graft train --mode probe on the hotdog set, in this JVM, as a user runs it. */
    static synchronized Path probeBundle() throws IOException {
        if (probe == null && System.getenv("GRAFT_TEST_PROBE_BUNDLE") != null) {
            probe = Path.of(System.getenv("GRAFT_TEST_PROBE_BUNDLE")); // while developing: a probe bundle trained as below, reused
        }
        if (probe == null) {
            Path out = work().resolve("probe");
            Result r = graft("train", "--data", hotdog().toString(), "--mode", "probe", "--model", MODEL, "--weights", weights().toString(),
                    "--out", out.toString());
            if (r.code() != 0) {
                throw new IllegalStateException("graft train --mode probe failed:\n" + r.out());
            }
            probe = out;
        }
        return probe;
    }

    /** The probe's test accuracy as graft train measured it. */
    static double probeTestAccuracy() throws IOException {
        JsonNode m = Json.read(probeBundle().resolve("model.json"));
        return m.path("results").path("test_acc").asDouble(Double.NaN);
    }

    static synchronized Path trainFeatures() throws IOException {
        if (trainFeatures == null) {
            Path out = work().resolve("features-train");
            job(new FeaturesJob(), "--data", hotdog().toString(), "--model", MODEL, "--weights", weights().toString(), "--output", out.toString(),
                    "--threads", "1");
            trainFeatures = out;
        }
        return trainFeatures;
    }

    static synchronized Path testFeatures() throws IOException {
        if (testFeatures == null) {
            Path out = work().resolve("features-test");
            job(new FeaturesJob(), "--data", hotdog().resolve("test").toString(), "--model", MODEL, "--weights", weights().toString(),
                    "--output", out.toString(), "--threads", "1");
            testFeatures = out;
        }
        return testFeatures;
    }

    /** Runs a Spark job's command line in this JVM (on the shared session); fails the test unless it succeeds. */
    static void job(Object command, String... args) {
        spark();
        int code = Jobs.execute(command, args);
        if (code != 0) {
            throw new AssertionError(command.getClass().getSimpleName() + " " + String.join(" ", args) + " exited with " + code);
        }
    }

    record Result(int code, String out, String stdout) {
    }

    /** The graft CLI in this JVM: exit code, everything printed, and standard output alone. */
    static Result graft(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        ByteArrayOutputStream std = new ByteArrayOutputStream();
        PrintStream both = new PrintStream(all, true);
        System.setOut(new PrintStream(new TeeStream(std, all), true));
        System.setErr(both);
        int code;
        try {
            code = dev.graft.app.Main.run(args);
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        return new Result(code, all.toString(), std.toString());
    }

    private static final class TeeStream extends java.io.OutputStream {
        private final java.io.OutputStream a;
        private final java.io.OutputStream b;

        TeeStream(java.io.OutputStream a, java.io.OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int x) throws IOException {
            a.write(x);
            b.write(x);
        }

        @Override
        public void write(byte[] buf, int off, int len) throws IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }
    }
}
