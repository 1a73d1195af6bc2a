package dev.graft.train;

import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDManager;
import dev.graft.data.BadImages;
import dev.graft.data.DataSplits;
import dev.graft.data.Transforms;
import dev.graft.model.Network;
import dev.graft.model.nn.Torch;
import dev.graft.util.Json;
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
        Recipe r = Fixtures.recipe(Recipe.Mode.FINETUNE, 3, 4).lr(1e3).weightDecay(0).build();
        try (NDManager m = Torch.newManager()) {
            Network net = Fixtures.resnet18(m);
            DivergedException e = assertThrows(DivergedException.class, () -> Fixtures.fit(net, r,
                    Fixtures.subset(8, 0), Fixtures.quiet(), List.of(new Checkpointing(Checkpointing.Target.single(ckpt, 1, Json.object()), s -> { }))));
            assertTrue(e.getMessage().contains("NaN") && e.getMessage().contains("--lr"), e.getMessage());
        }
        assertTrue(Files.exists(ckpt), "a checkpoint from before the divergence exists");
        Checkpoint.State s = Checkpoint.load(ckpt);
        for (var e : s.run().params().tensors().entrySet()) {
            assertEquals(0, e.getValue().countNonFinite(), e.getKey() + " in the kept checkpoint is finite");
        }
    }

    @Test
    void aNonFiniteLossNamesTheBatchAndItsImages() {
        DataSplits data = Fixtures.subset(4, 0);
        Recipe r = Fixtures.recipe(Recipe.Mode.FINETUNE, 1, 4).build();
        try (NDManager m = Torch.newManager();
             BatchSource source = BatchSource.images(data.train(), Transforms.bookTest(Fixtures.SMALL), Fixtures.SMALL, 4, 1,
                     Fixtures.quiet(), new BadImages(s -> { }))) {
            Network net = Fixtures.resnet18(m);
            Trainer t = new Trainer(new TrainingPlan(net, ParamGroups.bodyAndHead(net, 1, 1), LrSchedule.of(r, 2), new Sgd(0),
                    new Loss(Recipe.Reduction.SUM), source, 1, 1), List.of(), new StopSignal());
            BatchSource.Batch b = source.epoch(0, 1).next();
            DivergedException e = assertThrows(DivergedException.class,
                    () -> new DivergenceGuard("ckpt").onBatch(t, b, Float.NaN));
            // the batch and its files, so a user can find an image that decodes to values the network cannot take
            assertTrue(e.getMessage().contains("epoch 1") && e.getMessage().contains("The batch held 4 image(s)"), e.getMessage());
            for (int i = 0; i < 4; i++) {
                assertTrue(e.getMessage().contains(data.train().samples().get(b.samples()[i]).path().getFileName().toString()), e.getMessage());
            }
        }
    }

    @Test
    void failedCheckpointWriteLeavesThePreviousOneIntact() throws Exception {
        Path ckpt = tmp.resolve("checkpoint.safetensors");
        StateDict params = new StateDict("p");
        params.put("w", TensorData.ofFloats(new float[] {1, 2, 3}, 3));
        Checkpoint.save(ckpt, state(params));
        byte[] before = Files.readAllBytes(ckpt);
        // the temporary file cannot be created: the same failure as a full disk, seen by the writer
        Files.createDirectories(tmp.resolve("checkpoint.safetensors.tmp/blocker"));
        StateDict next = new StateDict("p");
        next.put("w", TensorData.ofFloats(new float[] {4, 5, 6}, 3));
        java.io.IOException e = assertThrows(java.io.IOException.class,
                () -> Checkpoint.save(ckpt, state(next)));
        assertTrue(e.getMessage().contains("previous checkpoint is intact"), e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(ckpt));
        assertArrayEquals(new float[] {1, 2, 3}, Checkpoint.load(ckpt).run().params().get("w").toFloats());
    }

    private static Checkpoint.State state(StateDict params) {
        return Checkpoint.State.of(new Checkpoint.Snapshot(new Progress(), params, "sgd", new StateDict("m"), java.util.Map.of()), Json.object());
    }

    @Test
    void trainingGoesOnWhenACheckpointCannotBeWritten() throws Exception {
        Path ckpt = tmp.resolve("c.safetensors");
        Files.createDirectories(tmp.resolve("c.safetensors.tmp/blocker"));
        List<String> log = new ArrayList<>();
        Recipe r = Fixtures.recipe(Recipe.Mode.FINETUNE, 1, 8).lr(1e-5).weightDecay(0).build();
        try (NDManager m = Torch.newManager()) {
            Network net = Fixtures.resnet18(m);
            TrainOptions opts = TrainOptions.defaults(log::add).withWorkers(2);
            List<EpochMetrics> h = Fixtures.fit(net, r, Fixtures.subset(8, 0), opts,
                    List.of(new Checkpointing(Checkpointing.Target.single(ckpt, 1, Json.object()), log::add))).history;
            assertEquals(1, h.size());
        }
        assertTrue(log.stream().anyMatch(l -> l.contains("could not write checkpoint") && l.contains("intact")), log.toString());
    }

    @Test
    void outOfMemoryAdvisesASmallerBatch() {
        RuntimeException e = StoppedException.explainEngineFailure(new EngineException("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory: you tried to allocate 9000000000 bytes"));
        assertTrue(e.getMessage().contains("--batch-size"), e.getMessage());
    }
}
