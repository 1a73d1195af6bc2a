package dev.graft.app;

import dev.graft.api.Classifier;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.graft.Images;
import dev.graft.Shared;
import dev.graft.weights.DType;
import dev.graft.weights.SafeTensors;
import dev.graft.weights.StateDict;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PredictExportTest {
    @TempDir
    Path tmp;

    @Test
    void javaApiClassifiesAnImageWithProbabilitiesThatSumToOne() throws Exception {
        try (Classifier c = Classifier.load(TinyBundle.get())) {
            assertEquals(List.of("hotdog", "not-hotdog"), c.labels());
            Path img = Shared.hotdog().resolve("test/hotdog/b1d13254d61f.jpg");
            List<Classifier.Prediction> p = c.predict(img, 2);
            assertEquals(2, p.size());
            assertEquals(1.0, p.get(0).probability() + p.get(1).probability(), 1e-4);
            assertTrue(p.get(0).probability() >= p.get(1).probability());
            // the same image twice in a batch gives the same answer as alone
            var twice = c.predict(List.of(c.decode(img), c.decode(img)), 2);
            assertEquals(p.get(0).probability(), twice.get(1).get(0).probability(), 1e-5);
        }
    }

    @Test
    void classifierLoadsAndPredictsFromAnyThread() throws Exception {
        Path bundle = TinyBundle.get();
        Path img = Shared.hotdog().resolve("test/hotdog/b1d13254d61f.jpg");
        Object[] result = new Object[1];
        // libtorch's grad mode is per thread: a worker thread (web server, Spark executor) starts with it on
        Thread worker = new Thread(() -> {
            try (Classifier c = Classifier.load(bundle)) {
                result[0] = c.predict(img, 1).get(0);
            } catch (Throwable t) {
                result[0] = t;
            }
        });
        worker.start();
        worker.join();
        assertTrue(result[0] instanceof Classifier.Prediction, "loading and predicting on a worker thread: " + result[0]);
    }

    @Test
    void predictOnBadImageFailStopsNamingTheFile() throws Exception {
        Images.write(tmp.resolve("imgs/a.png"), Images.pattern(50, 40, 1), "png");
        Files.writeString(tmp.resolve("imgs/broken.jpg"), "this is not a jpeg");
        String res = TrainCommandTest.run("predict", "--model", TinyBundle.get().toString(), "--on-bad-image", "fail",
                tmp.resolve("imgs").toString());
        assertTrue(res.startsWith("1\n"), res);
        assertTrue(res.contains("graft: error:") && res.contains("broken.jpg") && !res.contains("\tat "), res);
    }

    @Test
    void predictPrintsJsonLinesAndSkipsUnreadableFiles() throws Exception {
        Path good = Images.write(tmp.resolve("imgs/a.png"), Images.pattern(50, 40, 1), "png");
        Files.writeString(tmp.resolve("imgs/broken.jpg"), "this is not a jpeg");
        String res = TrainCommandTest.run("predict", "--model", TinyBundle.get().toString(), "--json", "--top-k", "2",
                tmp.resolve("imgs").toString());
        assertTrue(res.startsWith("0\n"), res);
        long lines = res.lines().filter(l -> l.startsWith("{")).count();
        assertEquals(2, lines, res);
        JsonNode ok = new ObjectMapper().readTree(res.lines().filter(l -> l.contains(good.getFileName().toString())).findFirst().orElseThrow());
        assertEquals(2, ok.get("predictions").size());
        assertTrue(res.contains("broken.jpg") && res.contains("error"), res);
    }

    @Test
    void predictFailsOnlyWhenNothingCouldBePredicted() throws Exception {
        Files.writeString(tmp.resolve("x.jpg"), "nope");
        String res = TrainCommandTest.run("predict", "--model", TinyBundle.get().toString(), tmp.resolve("x.jpg").toString());
        assertTrue(res.startsWith("1\n"), res);
        assertTrue(res.contains("x.jpg"), res);
    }

    @Test
    void exportWritesATorchvisionStateDict() throws Exception {
        Path out = tmp.resolve("export");
        String res = TrainCommandTest.run("export", "--model", TinyBundle.get().toString(), "--format", "safetensors", "--out", out.toString());
        assertTrue(res.startsWith("0\n"), res);
        StateDict sd = SafeTensors.read(out.resolve("model.safetensors"));
        // torchvision's resnet18 state_dict: 102 float tensors + 20 num_batches_tracked
        assertEquals(122, sd.size());
        assertEquals(DType.I64, sd.get("layer1.0.bn1.num_batches_tracked").dtype());
        assertEquals(List.of(2L, 512L), List.of(sd.get("fc.weight").shape()[0], sd.get("fc.weight").shape()[1]));
        assertTrue(Files.exists(out.resolve("labels.json")));
        List<String> theirs = Files.readAllLines(Shared.path("fixtures/torchvision/resnet18_seed0_keys.txt")).stream()
                .map(l -> l.split("\t")[0]).toList();
        assertEquals(theirs, List.copyOf(sd.names()));
    }

    @Test
    void pytorchLoadsTheExportStrictlyAndComputesTheSameLogits() throws Exception {
        boolean torch = new ProcessBuilder("/usr/bin/python3", "-c", "import torch, torchvision").start().waitFor() == 0;
        if (System.getenv("GRAFT_REQUIRE_TORCH") == null) {
            Assumptions.assumeTrue(torch, "PyTorch is not installed (apt-get install python3-torch python3-torchvision)");
        }
        Path out = tmp.resolve("export");
        TrainCommandTest.run("export", "--model", TinyBundle.get().toString(), "--out", out.toString());
        Process p = new ProcessBuilder("/usr/bin/python3", "tools/check_export.py", out.toString()).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(300, TimeUnit.SECONDS));
        System.out.println(text);
        assertEquals(0, p.exitValue(), text);
        assertTrue(text.contains("strict=True") && text.contains("OK"), text);
    }
}
