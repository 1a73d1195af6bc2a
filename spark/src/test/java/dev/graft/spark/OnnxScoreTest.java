package dev.graft.spark;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The score job on ONNX Runtime (the bundle exported in memory) gives libtorch's answers, image by image. */
@Tag("spark")
class OnnxScoreTest {
    @BeforeAll
    static void trainFirst() throws IOException {
        SparkFixture.probeBundle();
    }

    static Map<String, float[]> score(Path images, String engine) throws IOException {
        return ReplacedBundleTest.score(new ImageScorer().setBundle(SparkFixture.probeBundle().toString()).setEngine(engine)
                .setPrecision("fp32"), images);
    }

    @Test
    void onnxRuntimeScoresAsLibtorchDoes() throws Exception {
        Path images = Files.createDirectories(SparkFixture.work().resolve("onnx-images"));
        for (String cls : List.of("hotdog", "not-hotdog")) {
            try (Stream<Path> s = Files.list(SparkFixture.hotdog().resolve("test").resolve(cls))) {
                for (Path p : s.sorted().limit(4).toList()) {
                    Files.copy(p, images.resolve(cls + "-" + p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        Map<String, float[]> torch = score(images, "torch");
        Map<String, float[]> ort = score(images, "onnxruntime");
        assertEquals(8, ort.size());
        double largest = 0;
        for (Map.Entry<String, float[]> e : torch.entrySet()) {
            float[] o = ort.get(e.getKey());
            assertEquals(e.getValue()[0], o[0], 1e-4, e.getKey());
            assertEquals(e.getValue()[1], o[1], 1e-4, e.getKey());
            largest = Math.max(largest, Math.abs(e.getValue()[0] - o[0]));
        }
        // another engine rounds differently somewhere: equal to the last bit would mean libtorch ran twice
        assertTrue(largest > 0, "ONNX Runtime ran");
    }
}
