package dev.graft.app;

import dev.graft.run.RunFolder;
import dev.graft.Shared;
import ai.djl.ndarray.NDManager;
import dev.graft.model.nn.Torch;
import dev.graft.train.BatchSource;
import dev.graft.train.Checkpoint;
import dev.graft.train.FineTuning;
import dev.graft.train.StopSignal;
import dev.graft.train.RunConfig;
import dev.graft.train.StoppedException;
import dev.graft.train.Trainer;
import dev.graft.train.TrainingListener;
import dev.graft.weights.SafeTensors;
import dev.graft.weights.StateDict;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Exact resume: a run killed with SIGKILL in the middle of an epoch (or stopped with Ctrl-C) and resumed ends with
 * the same final weights, bit for bit, as an uninterrupted run with the same seed.
 */
class ResumeTest {
    @TempDir
    Path tmp;
    /** The uninterrupted reference run, shared by the class's tests and deleted after them. */
    @TempDir
    static Path referenceDir;

    /** Momentum and a cosine schedule, so the optimizer state and the step count must be restored too. */
    static List<String> args(Path out) {
        return new ArrayList<>(List.of("train", "--recipe", "book", "--data", Shared.hotdog().toString(), "--model", "resnet18",
                "--weights", Shared.path("fixtures/torchvision/resnet18_seed0.pth").toString(),
                "--epochs", "2", "--batch-size", "4", "--per-class", "6", "--test-per-class", "2", "--image-size", "64",
                "--momentum", "0.9", "--schedule", "cosine", "--lr", "1e-5", "--checkpoint-every", "1", "--seed", "3",
                "--workers", "2", "--out", out.toString()));
    }

    static Path uninterrupted;

    static synchronized Path reference(Path tmp) {
        if (uninterrupted == null) {
            Path a = tmp.resolve("uninterrupted");
            String res = TrainCommandTest.run(args(a).toArray(new String[0]));
            assertTrue(res.startsWith("0\n"), res);
            uninterrupted = a;
        }
        return uninterrupted;
    }

    static void assertSameWeights(Path a, Path b) throws Exception {
        StateDict x = SafeTensors.read(a.resolve("weights.safetensors"));
        StateDict y = SafeTensors.read(b.resolve("weights.safetensors"));
        assertEquals(x.names(), y.names());
        for (String k : x.names()) {
            assertEquals(x.get(k).bytes(), y.get(k).bytes(), k + " differs after resume");
        }
    }

    @Test
    @Tag("slow")
    void sigkillMidEpochThenResumeGivesIdenticalWeights() throws Exception {
        Path ref = reference(referenceDir);
        Random rnd = new Random(7);
        for (int attempt = 0; attempt < 3; attempt++) {
            Path b = tmp.resolve("killed" + attempt);
            List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                    "-cp", System.getProperty("java.class.path"), "dev.graft.app.Main"));
            cmd.addAll(args(b));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            // kill at a random step of the first epoch (3 steps per epoch): after at least one checkpoint exists
            int killAfterStep = 1 + rnd.nextInt(2);
            Path ckpt = b.resolve("checkpoint.safetensors");
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            while (System.nanoTime() < deadline && p.isAlive()) {
                if (Files.exists(ckpt)) {
                    try {
                        if (Checkpoint.load(ckpt).run().progress().step >= killAfterStep) {
                            break;
                        }
                    } catch (Exception e) {
                        // being replaced right now; look again
                    }
                }
                Thread.sleep(20 + rnd.nextInt(50));
            }
            assertTrue(p.isAlive(), "the run ended before it could be killed");
            p.destroyForcibly(); // SIGKILL
            p.waitFor();
            assertFalse(Files.exists(b.resolve("weights.safetensors")), "killed before the end");
            String res = TrainCommandTest.run("train", "--resume", b.toString());
            assertTrue(res.startsWith("0\n"), res);
            assertTrue(res.contains("resuming at epoch"), res);
            assertSameWeights(ref, b);
        }
    }

    @Test
    void ctrlCWritesACheckpointAndStopsCleanlyThenResumesIdentically() throws Exception {
        Path ref = reference(referenceDir);
        Path b = tmp.resolve("stopped");
        String[] a = args(b).toArray(new String[0]);
        // parse the same command line the CLI would, then stop after the 4th step (mid second epoch)
        TrainCommand cmd = new TrainCommand();
        Main.commandLine(cmd).parseArgs(java.util.Arrays.copyOfRange(a, 1, a.length));
        RunConfig cfg = cmd.data.config(cmd.recipe.resolve(0, cmd.data.model), 1).build();
        StopSignal stop = new StopSignal();
        TrainingListener stopper = new TrainingListener() {
            int steps;

            @Override
            public void onBatch(Trainer t, BatchSource.Batch batch, float lossSum) {
                if (++steps == 4) {
                    stop.request();
                }
            }
        };
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        RunFolder folder = RunFolder.forNewRun(b, cfg, false, quiet);
        try (NDManager m = Torch.newManager()) {
            StoppedException e = assertThrows(StoppedException.class,
                    () -> FineTuning.run(cfg, folder.context(cfg, m, quiet, false, stop, null, false, List.of(stopper))));
            assertTrue(e.getMessage().contains("stopped at epoch 2"), e.getMessage());
        }
        assertEquals(4, Checkpoint.load(b.resolve("checkpoint.safetensors")).run().progress().step);
        assertEquals(130, Main.report(new StoppedException("x")));
        String res = TrainCommandTest.run("train", "--resume", b.toString());
        assertTrue(res.startsWith("0\n"), res);
        assertSameWeights(ref, b);
    }

    /**
     * Runs {@code a} uninterrupted, then again stopped (as Ctrl-C stops it) after {@code steps} optimizer steps and
     * resumed with {@code train --resume}: the two final models must be the same bit for bit.
     */
    void stopResumeIdentical(List<String> a, int steps) throws Exception {
        Path ref = tmp.resolve("whole");
        List<String> whole = new ArrayList<>(a);
        whole.addAll(List.of("--out", ref.toString()));
        String r0 = TrainCommandTest.run(whole.toArray(new String[0]));
        assertTrue(r0.startsWith("0\n"), r0);
        Path b = tmp.resolve("stopped");
        TrainCommand cmd = new TrainCommand();
        Main.commandLine(cmd).parseArgs(a.subList(1, a.size()).toArray(new String[0]));
        RunConfig cfg = cmd.data.config(cmd.recipe.resolve(cmd.data.trainSize(cmd.recipe.recipe), cmd.data.model), 1).build();
        StopSignal stop = new StopSignal();
        TrainingListener stopper = new TrainingListener() {
            int n;

            @Override
            public void onBatch(Trainer t, BatchSource.Batch batch, float lossSum) {
                if (++n == steps) {
                    stop.request();
                }
            }
        };
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        RunFolder folder = RunFolder.forNewRun(b, cfg, false, quiet);
        try (NDManager m = Torch.newManager()) {
            assertThrows(StoppedException.class,
                    () -> FineTuning.run(cfg, folder.context(cfg, m, quiet, false, stop, null, false, List.of(stopper))));
        }
        String res = TrainCommandTest.run("train", "--resume", b.toString());
        assertTrue(res.startsWith("0\n"), res);
        assertSameWeights(ref, b);
    }

    static List<String> small(String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--data", Shared.hotdog().toString(), "--model", "resnet18",
                "--weights", Shared.path("fixtures/torchvision/resnet18_seed0.pth").toString(), "--per-class", "6",
                "--test-per-class", "2", "--image-size", "48", "--seed", "3", "--workers", "2"));
        a.addAll(List.of(extra));
        return a;
    }

    @Test
    void adamWResumesBitExactly() throws Exception {
        // AdamW's moments and per-parameter step counts travel in the checkpoint under its name
        stopResumeIdentical(small("--recipe", "book", "--optimizer", "adamw", "--lr", "1e-4", "--epochs", "2", "--batch-size", "4",
                "--schedule", "cosine"), 4);
    }

    @Test
    void theDefaultSearchResumesMidRaceBitExactly() throws Exception {
        // the race's suspended candidates, the one training, and the rungs so far are all in the checkpoint
        stopResumeIdentical(small("--epochs", "4"), 3);
    }
}
