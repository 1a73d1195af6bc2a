package dev.graft.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.graft.Shared;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A shortened version of the README's experiment with the real ImageNet MobileNet: fine-tuning must beat
 * training from scratch by a clear margin, and compare writes its table, compare.json and compare.html.
 */
@Tag("slow")
class CompareCommandTest {
    @TempDir
    Path out;

    @Test
    void finetuningBeatsScratchClearlyAndCompareJsonHasEveryMode() throws Exception {
        String res = TrainCommandTest.run("compare", "--data", Shared.hotdog().toString(), "--model", "mobilenet_v1_0.75",
                "--weights", Shared.path("models/keras-mobilenet_v1_0.75_224").toString(), "--modes", "finetune,scratch,probe",
                "--seeds", "1,2", "--epochs", "2", "--batch-size", "16", "--per-class", "24", "--test-per-class", "40",
                "--image-size", "160", "--out", out.toString());
        assertTrue(res.startsWith("0\n"), res);
        assertTrue(res.contains("train loss") && res.contains("test acc") && res.contains("±"), res);
        JsonNode c = new ObjectMapper().readTree(out.resolve("compare.json").toFile());
        Map<String, Double> acc = new HashMap<>();
        for (JsonNode m : c.get("modes")) {
            acc.put(m.get("mode").asText(), m.get("test_acc").asDouble());
            assertEquals(2, m.get("seeds").size());
            assertTrue(m.get("examples_per_sec").asDouble() > 0 && m.get("wall_seconds").asDouble() > 0);
        }
        assertEquals(3, acc.size());
        System.out.println("shortened experiment: " + acc);
        assertTrue(acc.get("finetune") >= acc.get("scratch") + 0.2, "fine-tuning beats scratch clearly: " + acc);
        assertTrue(acc.get("probe") >= 0.85, "the probe on ImageNet features is strong: " + acc);
        String html = Files.readString(out.resolve("compare.html"));
        assertTrue(html.contains("data:image/png;base64,") && html.contains("finetune"));
    }
}
