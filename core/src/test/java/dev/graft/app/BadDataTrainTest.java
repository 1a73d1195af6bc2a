package dev.graft.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.graft.BadInputs;
import dev.graft.Images;
import dev.graft.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A messy training folder: bad files are skipped, counted and listed, or stop the run naming the file. */
class BadDataTrainTest {
    @TempDir
    Path root;

    @TempDir
    Path outputs;

    Path messyDataset() throws Exception {
        Images.dataset(root, new String[] {"cat", "dog"}, 4, 2);
        BadInputs.writeAll(root.resolve("train/cat/messy"));
        return root;
    }

    String[] args(String policy, Path out) {
        return new String[] {"train", "--recipe", "book", "--data", root.toString(), "--model", "resnet18",
            "--weights", Shared.path("fixtures/torchvision/resnet18_seed0.pth").toString(), "--epochs", "1", "--batch-size", "8",
            "--image-size", "32", "--on-bad-image", policy, "--out", out.toString()};
    }

    @Test
    void skipCountsListsAndReportsTheBadFilesAndReadsTheAwkwardOnes() throws Exception {
        messyDataset();
        Path out = outputs.resolve("out");
        String res = TrainCommandTest.run(args("skip", out));
        assertTrue(res.startsWith("0\n"), res);
        Set<String> expected = new HashSet<>();
        BadInputs.corpus().forEach((name, in) -> {
            if (!in.valid()) {
                expected.add(name);
            }
        });
        expected.add("dangling-link.jpg");
        JsonNode m = new ObjectMapper().readTree(out.resolve("metrics.json").toFile());
        Set<String> skipped = new HashSet<>();
        m.get("skipped_images").forEach(s -> skipped.add(Path.of(s.get("file").asText()).getFileName().toString()));
        assertEquals(expected, skipped);
        assertTrue(res.contains(expected.size() + " image(s) skipped"), res);
        assertTrue(res.contains("skipping ") && res.contains("zero-bytes.jpg"), res);
        String report = Files.readString(out.resolve("report.html"));
        assertTrue(report.contains("truncated.png") && report.contains(expected.size() + " file(s) could not be used"), "report lists them");
        assertFalse(res.contains("\tat "), "no stack trace");
        // every file with an image extension is a sample; the folder named like an image is walked, not read
        assertEquals(2 * 4 + BadInputs.corpus().size() + 1,
                new ObjectMapper().readTree(out.resolve("model.json").toFile()).at("/data/train_size").asInt());
    }

    @Test
    void failStopsNamingTheFile() throws Exception {
        messyDataset();
        String res = TrainCommandTest.run(args("fail", outputs.resolve("out2")));
        assertTrue(res.startsWith("1\n"), res);
        assertTrue(res.contains("graft: error:") && res.contains(root.resolve("train/cat/messy").toString()), res);
        assertFalse(res.contains("\tat "), "no stack trace");
    }
}
