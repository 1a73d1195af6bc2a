package dev.graft.train;

import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDManager;
import dev.graft.model.Network;
import dev.graft.model.Torch;
import dev.graft.weights.StateDict;
import dev.graft.weights.TensorData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Training faults: divergence, a failing checkpoint write, running out of memory. */
class FaultTest {
    @TempDir
    Path tmp;

    @Test
    void divergenceStopsWithAMessageAndKeepsTheLastGoodCheckpoint() throws Exception {
        Path ckpt = tmp.resolve("checkpoint.safetensors");
        Recipe r = new Recipe("t", Recipe.Mode.FINETUNE, 3, 4, 1e3, 10, 0, 0, Recipe.Reduction.SUM, Recipe.Schedule.CONSTANT,
                0, true, 0.08, 0, Recipe.HeadInit.XAVIER, 0.1, false, 1);
        try (NDManager m = Torch.newManager()) {
            Network net = TrainerTest.resnet18(m);
            Trainer t = new Trainer(net, r, new Trainer.Data(TrainerTest.subset(8, 1).train(), null, null, TrainerTest.SMALL),
                    TrainerTest.quiet().withCheckpoint(ckpt, 1), List.of());
            Trainer.DivergedException e = assertThrows(Trainer.DivergedException.class, t::fit);
            assertTrue(e.getMessage().contains("NaN") && e.getMessage().contains("--lr"), e.getMessage());
        }
        assertTrue(Files.exists(ckpt), "a checkpoint from before the divergence exists");
        Checkpoint.State s = Checkpoint.load(ckpt);
        for (var e : s.params().entrySet()) {
            assertEquals(0, e.getValue().countNonFinite(), e.getKey() + " in the kept checkpoint is finite");
        }
    }

    @Test
    void failedCheckpointWriteLeavesThePreviousOneIntact() throws Exception {
        Path ckpt = tmp.resolve("checkpoint.safetensors");
        StateDict params = new StateDict("p");
        params.put("w", TensorData.ofFloats(new float[] {1, 2, 3}, 3));
        Recipe r = Recipe.book(Recipe.Mode.FINETUNE, 1);
        Checkpoint.save(ckpt, Checkpoint.Progress.start(), params, new StateDict("m"), null, r);
        byte[] before = Files.readAllBytes(ckpt);
        // the temporary file cannot be created: the same failure as a full disk, seen by the writer
        Files.createDirectories(tmp.resolve("checkpoint.safetensors.tmp/blocker"));
        StateDict next = new StateDict("p");
        next.put("w", TensorData.ofFloats(new float[] {4, 5, 6}, 3));
        java.io.IOException e = assertThrows(java.io.IOException.class,
                () -> Checkpoint.save(ckpt, Checkpoint.Progress.start(), next, new StateDict("m"), null, r));
        assertTrue(e.getMessage().contains("previous checkpoint is intact"), e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(ckpt));
        assertArrayEquals(new float[] {1, 2, 3}, Checkpoint.load(ckpt).params().get("w").toFloats());
    }

    @Test
    void trainingGoesOnWhenACheckpointCannotBeWritten() throws Exception {
        Path ckpt = tmp.resolve("c.safetensors");
        Files.createDirectories(tmp.resolve("c.safetensors.tmp/blocker"));
        List<String> log = new ArrayList<>();
        Recipe r = new Recipe("t", Recipe.Mode.FINETUNE, 1, 8, 1e-5, 10, 0, 0, Recipe.Reduction.SUM, Recipe.Schedule.CONSTANT,
                0, true, 0.08, 0, Recipe.HeadInit.XAVIER, 0.1, false, 1);
        try (NDManager m = Torch.newManager()) {
            Network net = TrainerTest.resnet18(m);
            TrainOptions opts = TrainOptions.defaults(log::add).withWorkers(2).withCheckpoint(ckpt, 1);
            List<EpochMetrics> h = new Trainer(net, r, new Trainer.Data(TrainerTest.subset(8, 1).train(), null, null, TrainerTest.SMALL),
                    opts, List.of()).fit();
            assertEquals(1, h.size());
        }
        assertTrue(log.stream().anyMatch(l -> l.contains("could not write checkpoint") && l.contains("intact")), log.toString());
    }

    @Test
    void outOfMemoryAdvisesASmallerBatch() {
        RuntimeException e = Trainer.explainEngineFailure(new EngineException("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory: you tried to allocate 9000000000 bytes"));
        assertTrue(e.getMessage().contains("--batch-size"), e.getMessage());
    }
}
