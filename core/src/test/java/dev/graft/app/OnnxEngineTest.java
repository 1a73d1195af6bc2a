package dev.graft.app;

import dev.graft.api.Classifier;
import dev.graft.Shared;
import dev.graft.data.ImageDecoder;
import dev.graft.data.RgbImage;
import dev.graft.model.InferenceEngine;
import dev.graft.model.nn.Precision;
import dev.graft.onnx.OnnxGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ONNX Runtime as predict's and the Java API's engine: on every hotdog and flowers12 test image, a bundle trained
 * with the real MobileNet v1 weights gives the same top-1 class on ONNX Runtime as on libtorch (float32) and
 * probabilities within 1e-4; an ONNX export runs on its own; the output says which engine ran; a file ONNX Runtime
 * refuses gets a message, not a stack trace.
 */
class OnnxEngineTest {
    @TempDir
    static Path tmp;
    static Path hotdog;
    static Path flowers;

    @BeforeAll
    static void trainProbes() {
        hotdog = probe("hotdog");
        flowers = probe("flowers12");
    }

    static Path probe(String set) {
        Path out = tmp.resolve(set);
        String res = TrainCommandTest.run("train", "--mode", "probe", "--data", Shared.path("data/" + set).toString(), "--model", "mobilenet_v1_0.75",
                "--weights", Shared.path("models/keras-mobilenet_v1_0.75_224").toString(), "--per-class", "10", "--test-per-class", "1",
                "--out", out.toString());
        assertTrue(res.startsWith("0\n"), res);
        return out;
    }

    static List<Path> testImages(String set) throws Exception {
        try (Stream<Path> s = Files.walk(Shared.path("data/" + set + "/test"))) {
            return s.filter(Files::isRegularFile).filter(p -> p.toString().endsWith(".jpg")).sorted().toList();
        }
    }

    @Test
    void onnxRuntimeAgreesWithTorchOnEveryHotdogAndFlowersTestImage() throws Exception {
        for (Path bundle : List.of(hotdog, flowers)) {
            String set = bundle.getFileName().toString();
            List<Path> files = testImages(set);
            int agree = 0;
            double worst = 0;
            try (Classifier torch = Classifier.load(bundle, ImageDecoder.DEFAULT_MAX_PIXELS, Precision.FP32, InferenceEngine.Kind.TORCH);
                 Classifier ort = Classifier.load(bundle, ImageDecoder.DEFAULT_MAX_PIXELS, Precision.FP32, InferenceEngine.Kind.ONNXRUNTIME)) {
                assertTrue(torch.engine().startsWith("torch"), torch.engine());
                assertTrue(ort.engine().startsWith("onnxruntime"), ort.engine());
                for (int start = 0; start < files.size(); start += 32) {
                    List<RgbImage> batch = new ArrayList<>();
                    for (Path f : files.subList(start, Math.min(files.size(), start + 32))) {
                        batch.add(torch.decode(f));
                    }
                    float[][] a = torch.probabilities(batch);
                    float[][] b = ort.probabilities(batch);
                    for (int i = 0; i < a.length; i++) {
                        assertEquals(argmax(a[i]), argmax(b[i]), files.get(start + i) + ": top-1");
                        agree++;
                        for (int c = 0; c < a[i].length; c++) {
                            worst = Math.max(worst, Math.abs(a[i][c] - b[i][c]));
                        }
                    }
                }
            }
            System.out.printf("%s: %d test images, the same top-1 on both engines, largest probability difference %.2e%n", set, agree, worst);
            assertEquals(files.size(), agree);
            assertTrue(worst <= 1e-4, set + ": probabilities differ by " + worst);
        }
    }

    @Test
    void predictSaysWhichEngineRanAndRunsAnOnnxExportOnItsOwn() throws Exception {
        Path img = Shared.hotdog().resolve("test/hotdog/b1d13254d61f.jpg");
        String res = TrainCommandTest.run("predict", "--model", hotdog.toString(), "--engine", "onnxruntime", "--json", img.toString());
        assertTrue(res.startsWith("0\n") && res.contains("graft: engine: onnxruntime (ONNX Runtime 1.20.0, float32, exported in memory from"), res);
        String torch = TrainCommandTest.run("predict", "--model", hotdog.toString(), "--precision", "fp32", img.toString());
        assertTrue(torch.startsWith("0\n") && torch.contains("graft: engine: torch (libtorch"), torch);
        Path export = tmp.resolve("hotdog-onnx");
        assertTrue(TrainCommandTest.run("export", "--model", hotdog.toString(), "--format", "onnx", "--out", export.toString()).startsWith("0\n"));
        String alone = TrainCommandTest.run("predict", "--model", export.toString(), img.toString());
        assertTrue(alone.startsWith("0\n") && alone.contains("graft: engine: onnxruntime") && alone.contains(export.resolve("model.onnx").toString()), alone);
        // the same line as the bundle on torch: labels from the model's metadata, the same probabilities to 4 decimals
        assertEquals(line(torch, img), line(alone, img));
        try (Classifier c = Classifier.load(export.resolve("model.onnx"), ImageDecoder.DEFAULT_MAX_PIXELS, Precision.AUTO, InferenceEngine.Kind.AUTO)) {
            assertEquals(List.of("hotdog", "not-hotdog"), c.labels());
            assertFalse(c.explains());
            assertThrows(IllegalStateException.class, () -> c.explain(c.decode(img), -1));
        }
        String torchOnExport = TrainCommandTest.run("predict", "--model", export.toString(), "--engine", "torch", img.toString());
        assertTrue(torchOnExport.startsWith("1\n") && torchOnExport.contains("runs on --engine onnxruntime"), torchOnExport);
    }

    @Test
    void anOnnxFileThatOnnxRuntimeRefusesGetsAMessage() throws Exception {
        Path bad = tmp.resolve("bad-export");
        Files.createDirectories(bad);
        Files.write(bad.resolve("model.onnx"), new byte[] {8, 8, 18, 5, 'g', 'r', 'a', 'f', 't', 58, (byte) 0xff, 1, 2, 3});
        Path img = Shared.hotdog().resolve("test/hotdog/b1d13254d61f.jpg");
        String res = TrainCommandTest.run("predict", "--model", bad.toString(), img.toString());
        assertTrue(res.startsWith("1\n"), res);
        assertTrue(res.contains("graft: error: " + bad.resolve("model.onnx") + ": ONNX Runtime cannot load it") && !res.contains("\tat "), res);
        // a valid ONNX model that graft did not write: no labels or preprocessing to predict with
        OnnxGraph g = new OnnxGraph(Map.of());
        g.output(g.flatten(g.globalPool(false, g.input("pixels", -1, 3, 8, 8))), "logits");
        Path foreign = tmp.resolve("foreign.onnx");
        Files.write(foreign, g.toBytes(new OnnxGraph.ModelInfo("foreign", "1", null, Map.of())));
        res = TrainCommandTest.run("predict", "--model", foreign.toString(), img.toString());
        assertTrue(res.startsWith("1\n") && res.contains("is not a graft ONNX export") && !res.contains("\tat "), res);
    }

    static String line(String output, Path img) {
        return output.lines().filter(l -> l.startsWith(img.toString())).findFirst().orElseThrow(() -> new AssertionError(output));
    }

    static int argmax(float[] p) {
        int best = 0;
        for (int i = 1; i < p.length; i++) {
            if (p[i] > p[best]) {
                best = i;
            }
        }
        return best;
    }
}
