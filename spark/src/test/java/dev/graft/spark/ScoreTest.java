package dev.graft.spark;

import com.fasterxml.jackson.databind.JsonNode;
import dev.graft.api.Classifier;
import dev.graft.util.Json;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Tag("spark")
class ScoreTest {
    @BeforeAll
    static void trainFirst() throws IOException {
        SparkFixture.probeBundle(); // graft train runs before Spark's tasks set the engine's threads
    }

    /** A local file as it appears in Spark's path column ("file:/abs/path"), made comparable. */
    static String local(String sparkPath) {
        return Hadoop.localPath(sparkPath).toAbsolutePath().normalize().toString();
    }

    @Test
    void scoreMatchesGraftPredictOnTheHotdogTestImages() throws Exception {
        Path bundle = SparkFixture.probeBundle();
        Path test = SparkFixture.hotdog().resolve("test");
        SparkFixture.Result predict = SparkFixture.graft("predict", "--model", bundle.toString(), "--json", "--top-k", "2", test.toString());
        assertEquals(0, predict.code(), predict.out());
        Map<String, JsonNode> expected = new HashMap<>();
        for (String line : predict.stdout().lines().filter(l -> l.startsWith("{")).toList()) {
            JsonNode n = Json.MAPPER.readTree(line);
            expected.put(Path.of(n.path("file").asText()).toAbsolutePath().normalize().toString(), n);
        }
        assertEquals(438, expected.size());

        Path out = SparkFixture.work().resolve("scores");
        SparkFixture.job(new ScoreJob(), "--bundle", bundle.toString(), "--input", test.toString(), "--output", out.toString(), "--top-k", "2",
                "--threads", "1");
        List<Row> rows = SparkFixture.spark().read().parquet(out.toString()).collectAsList();
        assertEquals(438, rows.size());
        int compared = 0;
        for (Row r : rows) {
            String path = local(r.getAs("path"));
            JsonNode e = expected.get(path);
            assertNotNull(e, "graft predict did not see " + path);
            assertNull(r.getAs("error"), path);
            JsonNode preds = e.path("predictions");
            assertEquals(preds.get(0).path("label").asText(), r.getAs("label"), path);
            assertEquals(preds.get(0).path("probability").asDouble(), ((Float) r.getAs("probability")).doubleValue(), 1e-5, path);
            List<Row> top = r.getList(r.fieldIndex("top_k"));
            assertEquals(2, top.size());
            for (int k = 0; k < 2; k++) {
                assertEquals(preds.get(k).path("label").asText(), top.get(k).getString(0), path);
                assertEquals(preds.get(k).path("index").asInt(), top.get(k).getInt(1), path);
                assertEquals(preds.get(k).path("probability").asDouble(), top.get(k).getFloat(2), 1e-5, path);
            }
            compared++;
        }
        assertEquals(438, compared);

        // and the Java API on the same bundle, on a worker thread, agrees on a few images
        List<Row> some = rows.subList(0, 8);
        Object[] got = new Object[1];
        Thread t = new Thread(() -> {
            try (Classifier c = Classifier.load(bundle)) {
                float[][] p = new float[some.size()][];
                for (int i = 0; i < some.size(); i++) {
                    p[i] = c.probabilities(List.of(c.decode(Path.of(local(some.get(i).getAs("path"))))))[0];
                }
                got[0] = p;
            } catch (Throwable e) {
                got[0] = e;
            }
        });
        t.start();
        t.join();
        assertTrue(got[0] instanceof float[][], String.valueOf(got[0]));
        float[][] p = (float[][]) got[0];
        for (int i = 0; i < some.size(); i++) {
            List<Row> top = some.get(i).getList(some.get(i).fieldIndex("top_k"));
            for (Row k : top) {
                assertEquals(p[i][k.getInt(1)], k.getFloat(2), 1e-5);
            }
        }
    }

    /** A folder of strangers' files: some photos, and files that are not what their names say. */
    static Path badCorpus() throws IOException {
        Path dir = SparkFixture.work().resolve("corpus");
        if (Files.isDirectory(dir)) {
            return dir;
        }
        Path test = SparkFixture.hotdog().resolve("test");
        List<Path> hot = list(test.resolve("hotdog")).subList(0, 2);
        List<Path> not = list(test.resolve("not-hotdog")).subList(0, 2);
        Files.createDirectories(dir.resolve("nested/deeper"));
        for (Path p : hot) {
            Files.copy(p, dir.resolve(p.getFileName()));
        }
        for (Path p : not) {
            Files.copy(p, dir.resolve("nested").resolve(p.getFileName()));
        }
        ImageIO.write(ImageIO.read(hot.get(0).toFile()), "png", dir.resolve("nested/deeper/AS PNG.PNG").toFile());
        byte[] jpeg = Files.readAllBytes(not.get(0));
        Files.write(dir.resolve("truncated.jpg"), Arrays.copyOf(jpeg, jpeg.length * 2 / 5));
        Files.writeString(dir.resolve("text.jpg"), "this is not a jpeg, only its name says so\n");
        Files.write(dir.resolve("empty.jpg"), new byte[0]);
        Files.writeString(dir.resolve("notes.txt"), "not an image, and not named like one: never read\n");
        return dir;
    }

    static List<Path> list(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    @Test
    void badImagesBecomeErrorRowsAndTheJobCompletes() throws Exception {
        Path dir = badCorpus();
        Path out = SparkFixture.work().resolve("corpus-scores");
        // CSV output, and the bundle sent with the job as on a cluster (zipped, unpacked by the executor)
        SparkFixture.job(new ScoreJob(), "--bundle", SparkFixture.probeBundle().toString(), "--input", dir.toString(), "--output", out.toString(),
                "--format", "csv", "--ship", "always", "--threads", "1", "--batch-size", "3");
        Dataset<Row> csv = SparkFixture.spark().read().option("header", "true").option("escape", "\"").csv(out.toString());
        Map<String, Row> byName = csv.collectAsList().stream().collect(Collectors.toMap(r -> Path.of(local(r.getAs("path"))).getFileName().toString(), r -> r));
        assertEquals(8, byName.size(), byName.keySet().toString());
        assertTrue(!byName.containsKey("notes.txt"));
        for (String bad : List.of("truncated.jpg", "text.jpg", "empty.jpg")) {
            Row r = byName.get(bad);
            assertNotNull(r.getAs("error"), bad);
            assertNull(r.getAs("label"), bad);
        }
        assertTrue(((String) byName.get("truncated.jpg").getAs("error")).contains("truncated"), byName.get("truncated.jpg").toString());
        assertTrue(((String) byName.get("text.jpg").getAs("error")).contains("not an image"), byName.get("text.jpg").toString());
        assertTrue(((String) byName.get("empty.jpg").getAs("error")).contains("empty"), byName.get("empty.jpg").toString());
        long good = byName.values().stream().filter(r -> r.getAs("error") == null).count();
        assertEquals(5, good);
        for (Row r : byName.values()) {
            if (r.getAs("error") == null) {
                assertTrue(List.of("hotdog", "not-hotdog").contains((String) r.getAs("label")), r.toString());
                JsonNode top = Json.MAPPER.readTree((String) r.getAs("top_k"));
                assertEquals(2, top.size(), "top_k as JSON text in CSV: " + r);
            }
        }

        // the transformer on Spark's binaryFile rows (bytes already read) gives the same answers, and drops the bytes
        SparkSession spark = SparkFixture.spark();
        Metrics m = new Metrics(spark.sparkContext(), "test");
        ImageScorer scorer = new ImageScorer().setBundle(SparkFixture.probeBundle().toString()).setTopK(1).setThreads(1).setMetrics(m);
        Dataset<Row> files = spark.read().format("binaryFile").option("recursiveFileLookup", "true").load(dir.toString());
        Dataset<Row> scored = scorer.transform(files);
        assertTrue(!Arrays.asList(scored.columns()).contains("content"));
        List<Row> rows = scored.collectAsList();
        // binaryFile lists notes.txt too (an error row here) but drops the empty file, as Spark's file sources do
        assertEquals(8, rows.size());
        for (Row r : rows) {
            String name = Path.of(local(r.getAs("path"))).getFileName().toString();
            Row csvRow = byName.get(name);
            if (csvRow != null && csvRow.getAs("error") == null) {
                assertEquals((String) csvRow.getAs("label"), r.getAs("label"), name);
                assertEquals(Double.parseDouble(csvRow.getAs("probability")), ((Float) r.getAs("probability")).doubleValue(), 1e-5, name);
            } else {
                assertNotNull(r.getAs("error"), name);
            }
        }
        assertEquals(8, m.images());
        assertEquals(3, m.errors());
    }

    @Test
    void bundleAndImagesOnAHadoopFileSystemAreShippedAndReadThroughHadoop() throws Exception {
        Path dir = badCorpus();
        SparkSession spark = SparkFixture.spark();
        String bundle = "testfs://" + SparkFixture.probeBundle().toAbsolutePath();
        Metrics m = new Metrics(spark.sparkContext(), "testfs");
        Dataset<Row> files = ImageInput.list(spark, "testfs://" + dir.toAbsolutePath());
        List<Row> rows = new ImageScorer().setBundle(bundle).setTopK(1).setThreads(1).setMetrics(m).transform(files).collectAsList();
        assertEquals(8, rows.size(), "the empty file too");
        Map<String, Row> byName = rows.stream().collect(Collectors.toMap(r -> ((String) r.getAs("path")).replaceAll(".*/", ""), r -> r));
        assertTrue(((String) byName.get("empty.jpg").getAs("path")).startsWith("testfs:/"), byName.get("empty.jpg").toString());
        assertTrue(((String) byName.get("empty.jpg").getAs("error")).contains("empty"), byName.get("empty.jpg").toString());
        assertTrue(((String) byName.get("text.jpg").getAs("error")).contains("not an image"), byName.get("text.jpg").toString());
        assertEquals(5, rows.stream().filter(r -> r.getAs("error") == null).count());
        // the bundle came through SparkContext.addFile(recursive): the executor loaded its shipped copy
        String name = "/" + SparkFixture.probeBundle().getFileName();
        assertTrue(java.util.Arrays.stream(spark.sparkContext().listFiles().mkString("\n").split("\n")).anyMatch(f -> f.endsWith(name)),
                spark.sparkContext().listFiles().mkString(", "));
        Row png = byName.get("AS PNG.PNG");
        try (Classifier c = Classifier.load(SparkFixture.probeBundle())) {
            float p = c.predict(dir.resolve("nested/deeper/AS PNG.PNG"), 1).get(0).probability();
            assertEquals(p, (Float) png.getAs("probability"), 1e-5);
        }
    }

    @Test
    void aMissingBundleIsNamedBeforeAnyTaskRuns() throws Exception {
        Path nowhere = SparkFixture.work().resolve("no-such-bundle");
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new ImageScorer().setBundle(nowhere.toString()).transform(ImageInput.list(SparkFixture.spark(), SparkFixture.hotdog().resolve("test").toString())));
        assertTrue(e.getMessage().contains(nowhere.toString()) && e.getMessage().contains("does not exist"), e.getMessage());
        Path notABundle = SparkFixture.hotdog().resolve("test");
        e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new ImageScorer().setBundle(notABundle.toString()).transform(ImageInput.list(SparkFixture.spark(), notABundle.toString())));
        assertTrue(e.getMessage().contains(notABundle.toString()) && e.getMessage().contains("not a graft model bundle"), e.getMessage());
        // the job says it in one line and exits 1
        assertEquals(1, Jobs.execute(new ScoreJob(), "--bundle", nowhere.toString(), "--input", "x", "--output", "y"));
    }

    @Test
    void aScorerIsSavedAndReadBackLikeAnySparkMlStage() throws Exception {
        Path p = SparkFixture.work().resolve("scorer-params");
        SparkFixture.spark();
        ImageScorer s = new ImageScorer().setBundle("/some/bundle").setTopK(3).setPrecision("fp32").setBatchSize(7);
        s.write().overwrite().save(p.toString());
        ImageScorer back = ImageScorer.load(p.toString());
        assertEquals(s.uid(), back.uid());
        assertEquals("/some/bundle", back.getBundle());
        assertEquals(3, (int) (Integer) back.getOrDefault(back.topK()));
        assertEquals("fp32", back.getOrDefault(back.precision()));
        assertEquals(7, (int) (Integer) back.getOrDefault(back.batchSize()));
    }
}
