package dev.graft.app;

import dev.graft.api.Classifier;
import dev.graft.run.RunFolder;
import dev.graft.Images;
import dev.graft.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The run folder: never among the images (real paths, not spellings), and always one complete run: the earlier one
 * until a replacing run has finished, then the new one, whatever moment a crash picks.
 */
class RunFolderTest {
    @TempDir
    Path tmp;

    static List<String> trainArgs(Path data, Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--recipe", "book", "--data", data.toString(), "--model", "resnet18",
                "--weights", Shared.path("fixtures/torchvision/resnet18_seed0.pth").toString(), "--epochs", "1", "--batch-size", "2",
                "--image-size", "32", "--workers", "1", "--out", out.toString()));
        a.addAll(List.of(more));
        return a;
    }

    static String train(List<String> args) {
        return TrainCommandTest.run(args.toArray(new String[0]));
    }

    @Test
    void anOutFolderInsideTheDataIsRefusedWhateverSymbolicLinksLeadThere() throws Exception {
        Path data = Images.dataset(tmp.resolve("data"), new String[] {"cat", "dog"}, 2, 1);
        // --out through a link to the data folder
        Path link = Files.createSymbolicLink(tmp.resolve("link"), data);
        String res = train(trainArgs(data, link.resolve("out")));
        assertTrue(res.startsWith("1\n") && res.contains("inside the data folder"), res);
        assertFalse(Files.exists(data.resolve("out")), "nothing written among the images");
        // the data named through a link, --out its real folder
        res = train(trainArgs(link, data.resolve("train/out")));
        assertTrue(res.startsWith("1\n") && res.contains("inside the data folder"), res);
        assertFalse(Files.exists(data.resolve("train/out")));
        // a link inside --out's parents that points into the data
        Files.createDirectories(tmp.resolve("runs"));
        Path runs = Files.createSymbolicLink(tmp.resolve("runs/latest"), data.resolve("test"));
        res = train(trainArgs(data, runs.resolve("a/b")));
        assertTrue(res.startsWith("1\n") && res.contains("inside the data folder"), res);
        assertFalse(Files.exists(data.resolve("test/a")));
    }

    static float[] predict(Path bundle, Path image) throws Exception {
        try (Classifier c = Classifier.load(bundle, dev.graft.data.ImageDecoder.DEFAULT_MAX_PIXELS, dev.graft.model.nn.Precision.FP32)) {
            return c.probabilities(List.of(c.decode(image)))[0];
        }
    }

    static List<String> names(Path dir) throws Exception {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void anOverwritingRunThatFailsLeavesTheEarlierRunWholeAndResumesIntoItsPlace() throws Exception {
        Path data = Images.dataset(tmp.resolve("data"), new String[] {"cat", "dog"}, 2, 1);
        Path image = data.resolve("test/cat/cat_0.jpg");
        Path run = tmp.resolve("run");
        assertTrue(train(trainArgs(data, run, "--seed", "1")).startsWith("0\n"));
        byte[] config = Files.readAllBytes(run.resolve("config.json"));
        byte[] weights = Files.readAllBytes(run.resolve("weights.safetensors"));
        float[] before = predict(run, image);

        // the replacing run trains, writes its files beside the old ones, and dies before they are moved into place
        RunFolder.beforeCommit = staged -> {
            throw new IllegalStateException("simulated crash before the commit");
        };
        String res;
        try {
            res = train(trainArgs(data, run, "--seed", "2", "--overwrite", "--checkpoint-every", "1"));
        } finally {
            RunFolder.beforeCommit = p -> { };
        }
        assertTrue(res.startsWith("1\n") && res.contains("stays there, whole, until this run has finished"), res);
        assertArrayEquals(config, Files.readAllBytes(run.resolve("config.json")), "the earlier run's config.json, not the new one's");
        assertArrayEquals(weights, Files.readAllBytes(run.resolve("weights.safetensors")));
        assertArrayEquals(before, predict(run, image), 0f, "the earlier model still predicts as before");
        assertFalse(Files.exists(run.resolve("checkpoint.safetensors")), "the new run's checkpoint is not among the earlier run's files");

        // --resume continues the new run (not "finished"), and its files replace the earlier run's all at once
        res = train(List.of("train", "--resume", run.toString()));
        assertTrue(res.startsWith("0\n") && res.contains("resuming the --overwrite run"), res);
        assertEquals(2, new com.fasterxml.jackson.databind.ObjectMapper().readTree(run.resolve("config.json").toFile()).at("/recipe/seed").asInt());
        assertEquals(List.of("config.json", "labels.json", "metrics.json", "model.json", "report.html", "weights.safetensors"), names(run),
                "one complete run, nothing left beside it");
        assertFalse(java.util.Arrays.equals(weights, Files.readAllBytes(run.resolve("weights.safetensors"))), "the new model");
        res = train(List.of("train", "--resume", run.toString()));
        assertTrue(res.startsWith("1\n") && res.contains("has finished"), res);
    }

    @Test
    void aBundleReplacementCutShortIsSeenWholeOldOrWholeNew() throws Exception {
        Path data = Images.dataset(tmp.resolve("data"), new String[] {"cat", "dog"}, 2, 1);
        Path image = data.resolve("test/dog/dog_0.jpg");
        Path a = tmp.resolve("a");
        Path b = tmp.resolve("b");
        assertTrue(train(trainArgs(data, a, "--seed", "1")).startsWith("0\n"));
        assertTrue(train(trainArgs(data, b, "--seed", "2", "--lr", "1e-2")).startsWith("0\n"));
        float[] old = predict(a, image);
        float[] fresh = predict(b, image);
        assertFalse(java.util.Arrays.equals(old, fresh), "two different models");
        List<String> bundle = List.of("labels.json", "model.json", "weights.safetensors");

        // killed while the new files were being written: they are not part of the folder
        Path staging = Files.createDirectories(a.resolve(dev.graft.util.AtomicFolder.STAGING));
        Files.copy(b.resolve("model.json"), staging.resolve("model.json"));
        assertArrayEquals(old, predict(a, image), 0f);
        assertTrue(train(trainArgs(data, a, "--seed", "3")).contains("holds an earlier graft run"), "still a finished run");

        // killed after the commit, with the new model.json moved over the old one and the old weights still there:
        // the next reader finishes the move and predicts with the new model whole
        Path commit = Files.createDirectories(a.resolve(dev.graft.util.AtomicFolder.COMMIT));
        for (String f : bundle) {
            Files.copy(b.resolve(f), commit.resolve(f));
        }
        Files.writeString(commit.resolve(".graft-obsolete"), "topology.json\n");
        Files.move(commit.resolve("model.json"), a.resolve("model.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertArrayEquals(fresh, predict(a, image), 0f, "the new model, not new labels over old weights");
        assertFalse(Files.exists(commit), "the replacement was finished");
        assertArrayEquals(Files.readAllBytes(b.resolve("weights.safetensors")), Files.readAllBytes(a.resolve("weights.safetensors")));
    }
}
