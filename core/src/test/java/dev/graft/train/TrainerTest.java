package dev.graft.train;

import ai.djl.ndarray.NDManager;
import dev.graft.data.BadImages;
import dev.graft.data.DataSplits;
import dev.graft.model.Network;
import dev.graft.model.nn.Torch;
import dev.graft.weights.StateDict;
import dev.graft.weights.TensorData;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainerTest {

    @Test
    void trainingLossFallsOnRealImagesAndTheTestFigureIsTheNetworks() {
        Recipe r = Fixtures.recipe(Recipe.Mode.FINETUNE, 4, 16).lr(2e-5).momentum(0.9).build();
        DataSplits data = Fixtures.subset(16, 8);
        try (NDManager m = Torch.newManager()) {
            Network net = Fixtures.resnet18(m);
            List<EpochMetrics> h = Fixtures.fit(net, r, data, Fixtures.quiet(), List.of()).history;
            assertEquals(4, h.size());
            System.out.println("loss by epoch: " + h.stream().map(e -> String.format("%.3f", e.trainLoss())).toList());
            assertTrue(h.get(3).trainLoss() < h.get(0).trainLoss() * 0.9, "loss should fall: " + h);
            // the last epoch's test accuracy is the final network's on the 16 test images, counted independently
            Evaluation again = Evaluator.evaluate(net, data.test(), Fixtures.SMALL, Fixtures.quiet(), new BadImages(s -> { }));
            assertEquals(again.accuracy(), h.get(3).testAcc(), 1e-12);
            assertEquals(16, again.size());
            assertTrue(h.get(3).examplesPerSec() > 0);
        }
        // negative control: at a rate too small to move anything the same loop's loss does not fall, so the fall above is learning
        Recipe still = Fixtures.recipe(Recipe.Mode.FINETUNE, 4, 16).lr(1e-30).momentum(0.9).build();
        try (NDManager m = Torch.newManager()) {
            Network net = Fixtures.resnet18(m);
            List<EpochMetrics> h = Fixtures.fit(net, still, data, Fixtures.quiet(), List.of()).history;
            assertTrue(h.get(3).trainLoss() > h.get(0).trainLoss() * 0.95, "the loss fell without learning: " + h);
        }
    }

    @Test
    void frozenBodyParametersAndBatchNormStatisticsStayBitIdentical() {
        Recipe r = Fixtures.recipe(Recipe.Mode.FROZEN, 2, 8).lr(1e-3).momentum(0.9).seed(3).build();
        try (NDManager m = Torch.newManager()) {
            Network net = Fixtures.resnet18(m);
            Map<String, TensorData> before = Fixtures.snapshotBody(net);
            float[] headBefore = net.stateDict().get("fc.weight").toFloats();
            Fixtures.fit(net, r, Fixtures.subset(8, 4), Fixtures.quiet(), List.of());
            Map<String, TensorData> after = Fixtures.snapshotBody(net);
            assertEquals(before.keySet(), after.keySet());
            assertTrue(before.keySet().stream().anyMatch(k -> k.endsWith("running_mean")));
            for (String k : before.keySet()) {
                assertEquals(before.get(k).bytes(), after.get(k).bytes(), k + " changed in frozen mode");
            }
            assertNotEquals(java.util.Arrays.toString(headBefore), java.util.Arrays.toString(net.stateDict().get("fc.weight").toFloats()),
                    "the head must train");
        }
        // negative control: the same loop fine-tuning moves the body and its statistics, so the comparison above can see change
        try (NDManager m = Torch.newManager()) {
            Network net = Fixtures.resnet18(m);
            Map<String, TensorData> before = Fixtures.snapshotBody(net);
            Fixtures.fit(net, r.toBuilder().mode(Recipe.Mode.FINETUNE).build(), Fixtures.subset(8, 4), Fixtures.quiet(), List.of());
            Map<String, TensorData> after = Fixtures.snapshotBody(net);
            assertTrue(before.keySet().stream().anyMatch(k -> k.endsWith("running_mean") && !before.get(k).bytes().equals(after.get(k).bytes())));
            assertTrue(before.keySet().stream().anyMatch(k -> k.endsWith("conv1.weight") && !before.get(k).bytes().equals(after.get(k).bytes())));
        }
    }

    @Test
    void sameSeedGivesIdenticalWeights() {
        Recipe r = Fixtures.recipe(Recipe.Mode.FINETUNE, 1, 8).lr(1e-4).momentum(0.9).schedule(Recipe.Shape.COSINE)
                .warmupSteps(1).seed(5).build();
        StateDict[] out = new StateDict[2];
        for (int run = 0; run < 2; run++) {
            try (NDManager m = Torch.newManager()) {
                Network net = Fixtures.resnet18(m);
                Fixtures.fit(net, r, Fixtures.subset(8, 0), Fixtures.quiet(), List.of());
                out[run] = net.stateDict();
            }
        }
        for (String k : out[0].names()) {
            assertEquals(out[0].get(k).bytes(), out[1].get(k).bytes(), k);
        }
        // negative control: another seed (other batches, crops, dropout) gives other weights
        try (NDManager m = Torch.newManager()) {
            Network net = Fixtures.resnet18(m);
            Fixtures.fit(net, r.toBuilder().seed(6).build(), Fixtures.subset(8, 0), Fixtures.quiet(), List.of());
            StateDict other = net.stateDict();
            assertTrue(out[0].names().stream().anyMatch(k -> !out[0].get(k).bytes().equals(other.get(k).bytes())), "seed 6 gave seed 5's weights");
        }
    }
}
