package dev.graft.app;

import dev.graft.api.Classifier;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.graft.Shared;
import dev.graft.Torchvision;
import dev.graft.model.Architecture;
import dev.graft.model.Architectures;
import dev.graft.model.TorchvisionModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import org.junit.jupiter.api.io.TempDir;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every torchvision architecture through the whole product, with torchvision's (random, seeded) weights in
 * torchvision's file format: a frozen run on cached features, a run of the default recipe (probe head,
 * fine-tuning, the choice between them), prediction from Java, and an export that torchvision loads strictly and
 * that computes graft's logits.
 */
@Tag("slow")
class EveryModelTest {
    static Path weights;

    static Stream<String> models() {
        return Architectures.all().stream().filter(a -> a instanceof TorchvisionModel).map(Architecture::name);
    }

    @BeforeAll
    static void torchvisionWeights() throws Exception {
        weights = Torchvision.workDir("every-model").toAbsolutePath();
        Torchvision.run("""
                import sys, torch, torchvision
                for name in sys.argv[2:]:
                    torch.manual_seed(0)
                    torch.save(torchvision.models.get_model(name).state_dict(), f"{sys.argv[1]}/{name}.pth")
                """, Stream.concat(Stream.of(weights.toString()), models()).toArray(String[]::new));
    }

    @ParameterizedTest
    @MethodSource("models")
    void trainsPredictsAndExports(String name, @TempDir Path tmp) throws Exception {
        // small images keep it quick; ViT's position embeddings need its 224
        String size = name.startsWith("vit") ? "224" : "64";
        String[] common = {"--data", Shared.hotdog().toString(), "--model", name, "--weights", weights.resolve(name + ".pth").toString(),
            "--per-class", "4", "--test-per-class", "2", "--epochs", "1", "--batch-size", "4", "--workers", "1", "--image-size", size};
        Path frozen = tmp.resolve("frozen");
        String res = TrainCommandTest.run(concat(new String[] {"train", "--mode", "frozen", "--augment", "false", "--out", frozen.toString()}, common));
        assertTrue(res.startsWith("0\n") && res.contains("computing body features once"), res);
        Path auto = tmp.resolve("auto");
        res = TrainCommandTest.run(concat(new String[] {"train", "--out", auto.toString()}, common));
        assertTrue(res.startsWith("0\n") && res.contains("head initialised by the probe") && res.contains("kept the"), res);
        JsonNode model = new ObjectMapper().readTree(auto.resolve("model.json").toFile());
        assertEquals(name, model.get("model").asText());
        try (Classifier c = Classifier.load(auto)) {
            var p = c.predict(Shared.hotdog().resolve("test/hotdog/b1d13254d61f.jpg"), 2);
            assertEquals(1.0, p.get(0).probability() + p.get(1).probability(), 1e-4);
        }
        Path export = tmp.resolve("export");
        res = TrainCommandTest.run("export", "--model", frozen.toString(), "--out", export.toString());
        assertTrue(res.startsWith("0\n"), res);
        Process p = new ProcessBuilder("/usr/bin/python3", "tools/check_export.py", export.toString()).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(600, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), text);
        assertTrue(text.contains("strict=True") && text.contains("<All keys matched successfully>") && text.contains("OK"), text);
        System.out.println(name + ": " + text.trim());
    }

    static String[] concat(String[] a, String[] b) {
        return Stream.concat(Stream.of(a), Stream.of(b)).toArray(String[]::new);
    }
}
