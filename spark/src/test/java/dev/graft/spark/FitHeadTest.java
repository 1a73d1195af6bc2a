package dev.graft.spark;

import com.fasterxml.jackson.databind.JsonNode;
import dev.graft.api.Classifier;
import dev.graft.train.Bundle;
import dev.graft.util.Json;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Tag("spark")
class FitHeadTest {
    @BeforeAll
    static void trainFirst() throws IOException {
        SparkFixture.probeBundle(); // graft train runs before Spark's tasks set the engine's threads
    }

    static Dataset<Row> read(Path features) {
        return FitHeadJob.read(SparkFixture.spark(), features.toString(), "auto");
    }

    @Test
    void featuresCarryTheBackboneAndPreprocessingInTheirMetadata() throws Exception {
        Path f = SparkFixture.trainFeatures();
        Dataset<Row> df = SparkFixture.spark().read().parquet(f.toString());
        FeaturesMeta meta = FeaturesMeta.of(df.schema(), "features", f.toString());
        assertNotNull(meta, "Parquet keeps the column metadata");
        assertEquals(SparkFixture.MODEL, meta.model());
        assertEquals(768, meta.dim());
        assertEquals(224, meta.preprocessing().crop());
        assertEquals(0.5f, meta.preprocessing().mean()[0]);
        assertEquals(SparkFixture.weights().toString(), meta.weights());
        assertNotNull(meta.weightsSha256());
        assertTrue(Files.isRegularFile(f.resolve(FeaturesMeta.SIDE_FILE)));
        assertEquals(List.of("path", "label", "features", "error"), List.of(df.columns()));
        assertEquals(1000, df.count(), "the train/ half of the book's layout");
        assertEquals(0, df.filter(functions.col("error").isNotNull()).count());
        assertEquals(500, df.filter(functions.col("label").equalTo("hotdog")).count());
        Row r = df.first();
        assertEquals(768, r.getList(r.fieldIndex("features")).size());
    }

    @Test
    void fitHeadGivesABundleAsAccurateAsGraftsProbe() throws Exception {
        Path bundle = SparkFixture.work().resolve("fit-head");
        SparkFixture.job(new FitHeadJob(), "--features", SparkFixture.trainFeatures().toString(), "--test-features",
                SparkFixture.testFeatures().toString(), "--out", bundle.toString());
        assertTrue(Bundle.isBundle(bundle));
        JsonNode m = Json.read(bundle.resolve("model.json"));
        assertEquals("graft probe on the Spark driver", m.path("head_fit").path("method").asText());
        assertEquals(SparkFixture.MODEL, m.path("model").asText());

        // the bundle's own accuracy on the test images, scored from the images as a user would
        Path out = SparkFixture.work().resolve("fit-head-scores");
        SparkFixture.job(new ScoreJob(), "--bundle", bundle.toString(), "--input", SparkFixture.hotdog().resolve("test").toString(),
                "--output", out.toString(), "--threads", "1");
        Dataset<Row> scores = SparkFixture.spark().read().parquet(out.toString());
        List<Row> rows = scores.collectAsList();
        assertEquals(438, rows.size());
        long correct = rows.stream().filter(r -> {
            String truth = Path.of(ScoreTest.local(r.getAs("path"))).getParent().getFileName().toString();
            return truth.equals(r.getAs("label"));
        }).count();
        double acc = correct / 438.0;
        double probe = SparkFixture.probeTestAccuracy();
        assertTrue(Math.abs(acc - probe) <= 0.005, "fit-head bundle " + acc + " vs graft train --mode probe " + probe);
        assertEquals(m.path("results").path("test_acc").asDouble(), acc, 0.0023, "fit-head's own test figure, from the test features");

        // graft predict reads it like any other bundle
        SparkFixture.Result predict = SparkFixture.graft("predict", "--model", bundle.toString(), "--json",
                SparkFixture.hotdog().resolve("test/hotdog").toString());
        assertEquals(0, predict.code(), predict.out());
        Map<String, String> byPath = new HashMap<>();
        for (Row r : rows) {
            byPath.put(ScoreTest.local(r.getAs("path")), r.getAs("label"));
        }
        for (String line : predict.stdout().lines().filter(l -> l.startsWith("{")).toList()) {
            JsonNode n = Json.MAPPER.readTree(line);
            assertEquals(byPath.get(Path.of(n.path("file").asText()).toAbsolutePath().normalize().toString()),
                    n.path("predictions").get(0).path("label").asText());
        }
    }

    @Test
    void mllibFitsTheSameObjectiveAsGraftsProbe() throws Exception {
        SparkSession spark = SparkFixture.spark();
        Dataset<Row> train = read(SparkFixture.trainFeatures());
        Dataset<Row> test = read(SparkFixture.testFeatures());
        HeadModel driver = new HeadFitter().setBundle(SparkFixture.work().resolve("head-driver").toString()).setMethod("driver").fit(train);
        Path mllibBundle = SparkFixture.work().resolve("head-mllib");
        HeadModel mllib = new HeadFitter().setBundle(mllibBundle.toString()).setMethod("mllib").fit(train);
        assertTrue(mllib.description().contains("MLlib"), mllib.description());
        JsonNode m = Json.read(mllibBundle.resolve("model.json"));
        JsonNode d = Json.read(SparkFixture.work().resolve("head-driver/model.json"));
        // the sample for lambda is all 1000 rows here: the same cross-validation, the same lambda
        assertEquals(d.path("head_fit").path("lambda").asDouble(), m.path("head_fit").path("lambda").asDouble(), 1e-12);

        List<Row> a = driver.transform(test).select("path", "label", "prediction", "probability").orderBy("path").collectAsList();
        List<Row> b = mllib.transform(test).select("path", "label", "prediction", "probability").orderBy("path").collectAsList();
        assertEquals(438, a.size());
        int agree = 0;
        int correctA = 0;
        int correctB = 0;
        double maxDiff = 0;
        double sumDiff = 0;
        for (int i = 0; i < a.size(); i++) {
            Row x = a.get(i);
            Row y = b.get(i);
            agree += x.getString(2).equals(y.getString(2)) ? 1 : 0;
            correctA += x.getString(2).equals(x.getString(1)) ? 1 : 0;
            correctB += y.getString(2).equals(y.getString(1)) ? 1 : 0;
            double px = x.getString(2).equals("hotdog") ? x.getFloat(3) : 1 - x.getFloat(3);
            double py = y.getString(2).equals("hotdog") ? y.getFloat(3) : 1 - y.getFloat(3);
            maxDiff = Math.max(maxDiff, Math.abs(px - py));
            sumDiff += Math.abs(px - py);
        }

        assertTrue(agree >= 436, agree + " of 438 test predictions agree");
        assertTrue(Math.abs(correctA - correctB) <= 2, correctA + " vs " + correctB + " correct");
        // the two solvers stop at different points of a flat optimum (graft's L-BFGS on a float32 objective at 1e-7
        // relative, MLlib's at 1e-9): measured mean 0.003, one borderline image 0.34 apart
        assertTrue(sumDiff / a.size() < 0.01, "mean probability difference " + sumDiff / a.size());
        assertTrue(maxDiff < 0.5, "largest probability difference " + maxDiff);

        // the MLlib bundle is an ordinary bundle: the Java API's full network agrees with the head on the features
        Row first = test.orderBy("path").first();
        float[] x = HeadModel.floats(first, first.fieldIndex("features"));
        float[] viaHead = HeadModel.probabilities(mllib.weight(), mllib.bias(), x);
        try (Classifier c = Classifier.load(mllibBundle)) {
            float[] viaNet = c.probabilities(List.of(c.decode(Path.of(ScoreTest.local(first.getAs("path"))))))[0];
            assertEquals(viaHead[0], viaNet[0], 1e-4);
        }
    }

    @Test
    void csvFeaturesOfASmallFolderFitAHeadWithMllib() throws Exception {
        Path small = SparkFixture.work().resolve("small");
        for (String c : List.of("hotdog", "not-hotdog")) {
            Files.createDirectories(small.resolve(c));
            for (Path p : ScoreTest.list(SparkFixture.hotdog().resolve("train").resolve(c)).subList(0, 6)) {
                Files.copy(p, small.resolve(c).resolve(p.getFileName()));
            }
        }
        Files.writeString(small.resolve("hotdog/broken.jpg"), "not a jpeg");
        // everything on a Hadoop file system other than file: (as HDFS or S3 would be): images, weights, features, bundle
        String fs = "testfs://";
        Path f = SparkFixture.work().resolve("small-features");
        SparkFixture.job(new FeaturesJob(), "--data", fs + small, "--model", SparkFixture.MODEL, "--weights", fs + SparkFixture.weights(),
                "--output", fs + f, "--format", "csv", "--threads", "1");
        Dataset<Row> csv = SparkFixture.spark().read().option("header", "true").option("escape", "\"").csv(f.toString());
        assertEquals(13, csv.count());
        Row broken = csv.filter(functions.col("path").endsWith("broken.jpg")).first();
        assertTrue(((String) broken.getAs("path")).startsWith("testfs:/"), broken.toString());
        assertNull(broken.getAs("features"));
        assertTrue(((String) broken.getAs("error")).contains("not an image"), broken.toString());
        Row ok = csv.filter(functions.col("error").isNull()).first();
        assertEquals(768, ((String) ok.getAs("features")).split(" ").length);
        assertTrue(Files.readString(f.resolve(FeaturesMeta.SIDE_FILE)).contains(fs + SparkFixture.weights()));

        Path bundle = SparkFixture.work().resolve("small-bundle");
        SparkFixture.job(new FitHeadJob(), "--features", fs + f, "--out", fs + bundle, "--method", "mllib", "--lambda", "0.01");
        JsonNode m = Json.read(bundle.resolve("model.json"));
        assertEquals("Spark MLlib LogisticRegression", m.path("head_fit").path("method").asText());
        assertEquals(12, m.path("data").path("train_size").asInt());
        assertEquals(1, m.path("data").path("skipped_rows").asInt());
        assertEquals(0.01, m.path("head_fit").path("lambda").asDouble(), 1e-12);
        try (Classifier c = Classifier.load(bundle)) {
            assertEquals(List.of("hotdog", "not-hotdog"), c.labels());
        }
        // an existing bundle is not replaced without --overwrite
        assertEquals(1, Jobs.execute(new FitHeadJob(), "--features", fs + f, "--out", fs + bundle));
        assertEquals(1, Jobs.execute(new FitHeadJob(), "--features", f.toString(), "--out", bundle.toString()));
        SparkFixture.job(new FitHeadJob(), "--features", f.toString(), "--out", bundle.toString(), "--overwrite", "--method", "driver");
        assertEquals("graft probe on the Spark driver", Json.read(bundle.resolve("model.json")).path("head_fit").path("method").asText());
    }
}
