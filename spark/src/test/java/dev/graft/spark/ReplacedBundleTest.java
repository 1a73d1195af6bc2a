package dev.graft.spark;

import dev.graft.util.Json;
import dev.graft.weights.SafeTensors;
import dev.graft.weights.StateDict;
import dev.graft.weights.TensorData;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A bundle replaced at the same path during one Spark application (as fit-head with overwrite does) is scored with
 * its new head, read in place or shipped, and the executor closes the model it replaced.
 */
@Tag("spark")
class ReplacedBundleTest {
    @BeforeAll
    static void trainFirst() throws IOException {
        SparkFixture.probeBundle();
    }

    /** The bundle with the two rows of its head swapped: every image's probabilities change places between the classes. */
    static void writeSwapped(Path from, Path to) throws IOException {
        String head = Json.read(from.resolve("model.json")).path("head").asText();
        StateDict sd = SafeTensors.read(from.resolve("weights.safetensors"));
        StateDict out = new StateDict("swapped");
        sd.tensors().forEach(out::put);
        sd.metadata().forEach((k, v) -> out.metadata().put(k, v));
        for (String p : List.of(head + ".weight", head + ".bias")) {
            TensorData t = sd.require(p);
            float[] v = t.toFloats();
            int row = v.length / 2;
            float[] w = new float[v.length];
            System.arraycopy(v, row, w, 0, row);
            System.arraycopy(v, 0, w, row, row);
            out.put(p, TensorData.ofFloats(w, t.shape()));
        }
        Path tmp = Files.createTempDirectory("graft-swapped");
        SafeTensors.write(out, tmp.resolve("weights.safetensors"));
        for (String f : List.of("model.json", "labels.json", "topology.json")) {
            if (Files.exists(from.resolve(f))) {
                Files.copy(from.resolve(f), to.resolve(f), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Files.move(tmp.resolve("weights.safetensors"), to.resolve("weights.safetensors"), StandardCopyOption.REPLACE_EXISTING);
    }

    static void copyBundle(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        for (String f : dev.graft.train.Bundle.FILES) {
            if (!Files.exists(from.resolve(f))) {
                continue;
            }
            Path tmp = to.resolve(f + ".new");
            Files.copy(from.resolve(f), tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, to.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Path -> {p(hotdog), p(not-hotdog)} as ImageScorer scores the images with the bundle. */
    static Map<String, float[]> score(Path bundle, Path images, String ship) {
        return score(new ImageScorer().setBundle(bundle.toString()).setShip(ship), images);
    }

    /** Path -> {p(hotdog), p(not-hotdog)} as {@code scorer} scores the images (top 2, one thread), no row with an error. */
    static Map<String, float[]> score(ImageScorer scorer, Path images) {
        List<Row> rows = scorer.setTopK(2).setThreads(1)
                .transform(SparkFixture.spark().read().format("binaryFile").load(images.toString())).collectAsList();
        Map<String, float[]> out = new HashMap<>();
        for (Row r : rows) {
            assertNull(r.getAs("error"));
            float[] p = new float[2];
            for (Row k : r.<Row>getList(r.fieldIndex("top_k"))) {
                p[k.getInt(1)] = k.getFloat(2);
            }
            out.put(r.getAs("path"), p);
        }
        return out;
    }

    @Test
    void aBundleReplacedAtItsPathIsScoredWithItsNewHeadAndTheOldModelIsClosed() throws Exception {
        Path images = Files.createDirectories(SparkFixture.work().resolve("replaced-images"));
        for (String cls : List.of("hotdog", "not-hotdog")) {
            try (Stream<Path> s = Files.list(SparkFixture.hotdog().resolve("test").resolve(cls))) {
                for (Path p : s.sorted().limit(3).toList()) {
                    Files.copy(p, images.resolve(cls + "-" + p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        Path bundle = SparkFixture.work().resolve("replaced-bundle");
        copyBundle(SparkFixture.probeBundle(), bundle);
        Map<String, float[]> first = score(bundle, images, "auto");
        assertEquals(6, first.size());
        int loaded = ExecutorModels.loaded();

        writeSwapped(SparkFixture.probeBundle(), bundle); // the same path, another head
        Map<String, float[]> second = score(bundle, images, "auto");
        for (Map.Entry<String, float[]> e : first.entrySet()) {
            float[] now = second.get(e.getKey());
            assertEquals(e.getValue()[0], now[1], 1e-5, "the new head scored " + e.getKey());
            assertEquals(e.getValue()[1], now[0], 1e-5, "the new head scored " + e.getKey());
        }
        assertTrue(Math.abs(first.values().iterator().next()[0] - 0.5f) > 0.01, "the two heads really differ");
        assertEquals(loaded, ExecutorModels.loaded(), "the replaced model was closed, not kept beside the new one");

        // shipped with the job: each version travels under its own name, so executors never reuse the old copy
        Map<String, float[]> shipped = score(bundle, images, "always");
        copyBundle(SparkFixture.probeBundle(), bundle);
        Map<String, float[]> shippedBack = score(bundle, images, "always");
        for (String k : first.keySet()) {
            assertEquals(second.get(k)[0], shipped.get(k)[0], 1e-5, "shipped: the version at the path when the job ran, " + k);
            assertEquals(first.get(k)[0], shippedBack.get(k)[0], 1e-5, "shipped again after the bundle changed back, " + k);
        }
    }
}
