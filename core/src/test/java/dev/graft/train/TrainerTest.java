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
    }

    @Test
    void sameSeedGivesIdenticalWeights() {
        Recipe r = Fixtures.recipe(Recipe.Mode.FINETUNE, 1, 8).lr(1e-4).momentum(0.9).schedule(Recipe.Schedule.COSINE)
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
    }
}
