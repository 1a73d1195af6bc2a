package dev.graft.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.graft.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code graft train} end to end on a subset of the real hotdog photos. */
class TrainCommandTest {
    @TempDir
    Path out;

    static String run(String... args) {
        PrintStream old = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream tee = new PrintStream(buf, true);
        System.setOut(tee);
        System.setErr(tee);
        int code;
        try {
            code = Main.run(args);
        } finally {
            System.setOut(old);
            System.setErr(oldErr);
        }
        String text = buf.toString();
        System.out.println(text);
        return code + "\n" + text;
    }

    @Test
    void trainWritesModelLabelsConfigAndMetrics() throws Exception {
        String res = run("train", "--recipe", "book", "--data", Shared.hotdog().toString(), "--model", "resnet18",
                "--weights", Shared.path("fixtures/torchvision/resnet18_seed0.pth").toString(),
                "--epochs", "2", "--batch-size", "8", "--per-class", "8", "--test-per-class", "4", "--image-size", "96",
                "--out", out.toString());
        assertTrue(res.startsWith("0\n"), res);
        assertTrue(res.contains("epoch 1/2: loss") && res.contains("train acc") && res.contains("test acc") && res.contains("examples/sec"), res);
        assertTrue(res.contains("estimated time"), res);
        JsonNode m = new ObjectMapper().readTree(out.resolve("metrics.json").toFile());
        assertEquals(2, m.get("epochs").size());
        JsonNode e1 = m.get("epochs").get(0);
        assertEquals(1, e1.get("epoch").asInt());
        for (String k : new String[] {"train_loss", "train_acc", "test_acc", "examples_per_sec"}) {
            assertTrue(e1.get(k).isNumber(), k);
        }
        assertEquals("[\"hotdog\",\"not-hotdog\"]", Files.readString(out.resolve("labels.json")).replaceAll("\\s", ""));
        JsonNode cfg = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertEquals("SUM", cfg.at("/recipe/optimization/loss").asText());
        assertEquals(5e-5, cfg.at("/recipe/optimization/lr").asDouble(), 1e-12);
        assertEquals(10.0, cfg.at("/recipe/optimization/headLrMult").asDouble(), 1e-12);
        JsonNode model = new ObjectMapper().readTree(out.resolve("model.json").toFile());
        assertEquals("resnet18", model.get("architecture").asText());
        assertTrue(model.at("/data/fingerprint").asText().startsWith("sha256:"));
        assertTrue(Files.size(out.resolve("weights.safetensors")) > 40_000_000);
        assertTrue(Files.readString(out.resolve("report.html")).contains("data:image/png;base64,"));
    }

    @Test
    void missingDataFolderIsOneClearLine() {
        String res = run("train", "--data", out.resolve("nope").toString(), "--out", out.toString());
        assertTrue(res.startsWith("1\n"), res);
        assertTrue(res.contains("graft: error:") && res.contains("nope") && !res.contains("\tat "), res);
    }

    @Test
    void demoOfflineWithNothingCachedSaysWhatToPass() {
        System.setProperty("graft.offline", "1");
        System.setProperty("graft.home", out.resolve("cache").toString());
        try {
            String res = run("demo");
            assertTrue(res.startsWith("1\n"), res);
            assertTrue(res.contains("--data DIR") && res.contains("--weights FILE") && res.contains("hotdog"), res);
        } finally {
            System.clearProperty("graft.offline");
            System.clearProperty("graft.home");
        }
    }

    /** hotdog and tabby photos (ImageNet class names), 6 per class and split, linked from the hotdog set. */
    static Path imagenetNamedClasses(Path root) throws Exception {
        for (String split : new String[] {"train", "test"}) {
            dev.graft.Images.link(Shared.hotdog().resolve(split + "/hotdog"), root.resolve(split + "/hotdog"), 6);
            dev.graft.Images.link(Shared.hotdog().resolve(split + "/not-hotdog"), root.resolve(split + "/tabby"), 6);
        }
        return root;
    }

    @Test
    void zeroShotIsTheUntouchedSourcesWhateverTheMode() throws Exception {
        Path data = imagenetNamedClasses(out.resolve("data"));
        String[] zeroShot = new String[2];
        String[] modes = {"frozen", "finetune"};
        for (int i = 0; i < 2; i++) {
            Path o = out.resolve("run-" + modes[i]);
            String res = run("train", "--recipe", "book", "--data", data.toString(), "--model", "mobilenet_v1_0.75",
                    "--weights", Shared.path("models/keras-mobilenet_v1_0.75_224").toString(), "--mode", modes[i],
                    "--epochs", "2", "--batch-size", "4", "--lr", "1e-3", "--image-size", "128", "--out", o.toString());
            assertTrue(res.startsWith("0\n"), res);
            zeroShot[i] = new ObjectMapper().readTree(o.resolve("metrics.json").toFile()).get("zero_shot").asText();
        }
        // measured on the source model before training: the same whatever trains afterwards
        assertEquals(zeroShot[0], zeroShot[1]);
        assertTrue(Double.parseDouble(zeroShot[0]) > 0.5, zeroShot[0]);
    }

    @Test
    void aRecipeKnobAloneMarksTheRecipeCustomAndTheModelIsNamedByItsWeights() throws Exception {
        Path o = out.resolve("run");
        String res = run("train", "--recipe", "book", "--data", Shared.hotdog().toString(), "--model", "mobilenet_v1",
                "--weights", Shared.path("models/keras-mobilenet_v1_0.75_224/model.json").toString(), "--head-init", "source-class",
                "--epochs", "1", "--batch-size", "8", "--per-class", "4", "--test-per-class", "2", "--image-size", "64",
                "--out", o.toString());
        assertTrue(res.startsWith("0\n"), res);
        JsonNode cfg = new ObjectMapper().readTree(o.resolve("config.json").toFile());
        assertEquals("book+custom", cfg.at("/recipe/name").asText());
        assertEquals("SOURCE_CLASS", cfg.at("/recipe/headInit").asText());
        JsonNode model = new ObjectMapper().readTree(o.resolve("model.json").toFile());
        assertEquals("mobilenet_v1_0.75", model.get("model").asText(), "named after the weights loaded, not the alias asked for");
        assertTrue(res.contains("model: mobilenet_v1_0.75") && res.contains("new output layer head 768 -> 2"), res);
        assertTrue(!res.contains("head head"), res);
    }
}
