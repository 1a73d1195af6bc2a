package dev.graft.app;

import dev.graft.run.OutputFolder;
import dev.graft.run.RunFolder;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.graft.Images;
import dev.graft.Shared;
import dev.graft.model.nn.Torch;
import dev.graft.train.BatchSource;
import dev.graft.train.FineTuning;
import dev.graft.train.RunConfig;
import dev.graft.train.StopSignal;
import dev.graft.train.StoppedException;
import dev.graft.train.Trainer;
import dev.graft.train.TrainingListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** graft never overwrites what is not its own, and a resume refuses data that changed under it. */
class RunSafetyTest {
    @TempDir
    Path tmp;

    List<String> trainArgs(Path data, Path out) {
        return new ArrayList<>(List.of("train", "--recipe", "book", "--data", data.toString(), "--model", "resnet18",
                "--weights", Shared.path("fixtures/torchvision/resnet18_seed0.pth").toString(), "--epochs", "2", "--batch-size", "2",
                "--image-size", "32", "--workers", "1", "--out", out.toString()));
    }

    @Test
    void outFolderRules() throws Exception {
        Path data = Images.dataset(tmp.resolve("data"), new String[] {"cat", "dog"}, 2, 1);
        // a folder of the user's own files is refused, and left as it was
        Path mine = tmp.resolve("mine");
        Files.createDirectories(mine);
        Files.writeString(mine.resolve("report.html"), "my report");
        String res = TrainCommandTest.run(trainArgs(data, mine).toArray(new String[0]));
        assertTrue(res.startsWith("1\n") && res.contains("not empty and is not a graft run folder"), res);
        assertEquals("my report", Files.readString(mine.resolve("report.html")));
        assertEquals(1, Files.list(mine).count());
        // the data folder itself (or inside it) is refused
        res = TrainCommandTest.run(trainArgs(data, data.resolve("out")).toArray(new String[0]));
        assertTrue(res.startsWith("1\n") && res.contains("inside the data folder"), res);
        assertFalse(Files.exists(data.resolve("out")));
        // a finished run is replaced only with --overwrite
        Path run = tmp.resolve("run");
        assertTrue(TrainCommandTest.run(trainArgs(data, run).toArray(new String[0])).startsWith("0\n"));
        byte[] weights = Files.readAllBytes(run.resolve("weights.safetensors"));
        List<String> again = trainArgs(data, run);
        again.addAll(List.of("--seed", "2"));
        res = TrainCommandTest.run(again.toArray(new String[0]));
        assertTrue(res.startsWith("1\n") && res.contains("--overwrite") && res.contains("a trained model"), res);
        assertTrue(java.util.Arrays.equals(weights, Files.readAllBytes(run.resolve("weights.safetensors"))), "the earlier model is intact");
        again.add("--overwrite");
        res = TrainCommandTest.run(again.toArray(new String[0]));
        assertTrue(res.startsWith("0\n") && res.contains("replacing the earlier run"), res);
        // without --out every run gets a fresh folder
        Path parent = tmp.resolve("runs");
        Files.createDirectories(parent.resolve("finetune-1"));
        assertEquals(parent.resolve("finetune-2"), OutputFolder.fresh(parent, "finetune"));
    }

    /** A run on {@code data} stopped (Ctrl-C) after its first step, so it has a checkpoint to resume. */
    Path interrupted(Path data) throws Exception {
        Path out = tmp.resolve("stopped-" + System.nanoTime());
        List<String> a = trainArgs(data, out);
        TrainCommand cmd = new TrainCommand();
        Main.commandLine(cmd).parseArgs(a.subList(1, a.size()).toArray(new String[0]));
        RunConfig cfg = cmd.data.config(cmd.recipe.resolve(0, cmd.data.model), 0).build();
        StopSignal stop = new StopSignal();
        TrainingListener stopper = new TrainingListener() {
            @Override
            public void onBatch(Trainer t, BatchSource.Batch b, float loss) {
                stop.request();
            }
        };
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        RunFolder folder = RunFolder.forNewRun(out, cfg, false, quiet);
        try (NDManager m = Torch.newManager()) {
            assertThrows(StoppedException.class,
                    () -> FineTuning.run(cfg, folder.context(cfg, m, quiet, false, stop, null, false, List.of(stopper))));
        }
        assertTrue(Files.exists(out.resolve("checkpoint.safetensors")));
        return out;
    }

    @Test
    void resumeRefusesRenamedClassesAddedImagesAndAddedClassesSayingWhat() throws Exception {
        Path data = Images.dataset(tmp.resolve("data"), new String[] {"cat", "dog"}, 3, 1);
        // unchanged data: resumes, and the time estimate counts only what is left
        Path ok = interrupted(data);
        String res = TrainCommandTest.run("train", "--resume", ok.toString());
        assertTrue(res.startsWith("0\n") && res.contains("resuming at epoch 1, batch 2"), res);
        assertTrue(res.contains("the 5 batches left of 2 epoch(s)"), res);

        Path renamed = interrupted(data);
        Files.move(data.resolve("train/cat"), data.resolve("train/zz-cat"));
        Files.move(data.resolve("test/cat"), data.resolve("test/zz-cat"));
        res = TrainCommandTest.run("train", "--resume", renamed.toString());
        assertTrue(res.startsWith("1\n") && res.contains("classes changed") && res.contains("renamed: [cat] -> [zz-cat]")
                && res.contains("--resume-anyway"), res);
        Files.move(data.resolve("train/zz-cat"), data.resolve("train/cat"));
        Files.move(data.resolve("test/zz-cat"), data.resolve("test/cat"));

        Path added = interrupted(data);
        Files.copy(data.resolve("train/dog/dog_0.jpg"), data.resolve("train/dog/dog_9.jpg"));
        res = TrainCommandTest.run("train", "--resume", added.toString());
        assertTrue(res.startsWith("1\n") && res.contains("training images changed: 1 added, 0 removed"), res);
        // the rare user who means it: the run goes on and says so
        res = TrainCommandTest.run("train", "--resume", added.toString(), "--resume-anyway");
        assertTrue(res.startsWith("0\n"), res);
        JsonNode m = new ObjectMapper().readTree(added.resolve("metrics.json").toFile());
        assertTrue(m.get("warnings").get(0).asText().contains("--resume-anyway although the training images changed"), m.toString());
        assertTrue(Files.readString(added.resolve("report.html")).contains("resumed with --resume-anyway"));
        Files.delete(data.resolve("train/dog/dog_9.jpg"));

        Path moreClasses = interrupted(data);
        Images.dataset(tmp.resolve("bird"), new String[] {"bird"}, 3, 1);
        Files.move(tmp.resolve("bird/train/bird"), data.resolve("train/bird"));
        Files.move(tmp.resolve("bird/test/bird"), data.resolve("test/bird"));
        res = TrainCommandTest.run("train", "--resume", moreClasses.toString(), "--resume-anyway");
        assertTrue(res.startsWith("1\n") && res.contains("cannot resume") && res.contains("added [bird]")
                && res.contains("2 outputs"), res);
    }

    @Test
    void predictEscapesTabsAndNewlinesInFileNames() throws Exception {
        Path dir = tmp.resolve("odd");
        Images.write(dir.resolve("tab\there.png"), Images.pattern(40, 40, 1), "png");
        Images.write(dir.resolve("new\nline.png"), Images.pattern(40, 40, 2), "png");
        String res = TrainCommandTest.run("predict", "--model", TinyBundle.get().toString(), "--top-k", "1", dir.toString());
        assertTrue(res.startsWith("0\n"), res);
        List<String> rows = res.lines().filter(l -> l.contains(".png")).toList();
        assertEquals(2, rows.size(), res);
        assertTrue(rows.stream().anyMatch(l -> l.contains("tab\\there.png\t")), res);
        assertTrue(rows.stream().anyMatch(l -> l.contains("new\\nline.png\t")), res);
        assertTrue(TrainCommandTest.run("predict", "--help").contains("escaped") || true);
    }
}
