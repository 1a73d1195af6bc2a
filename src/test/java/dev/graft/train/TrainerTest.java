package dev.graft.train;

import ai.djl.ndarray.NDManager;
import dev.graft.Shared;
import dev.graft.data.ImageFolder;
import dev.graft.data.Preprocessing;
import dev.graft.model.Layers;
import dev.graft.model.Network;
import dev.graft.model.ResNet;
import dev.graft.model.Torch;
import dev.graft.weights.PthReader;
import dev.graft.weights.StateDict;
import dev.graft.weights.TensorData;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainerTest {
    static final Preprocessing SMALL = new Preprocessing(128, false, 112, Preprocessing.IMAGENET_MEAN, Preprocessing.IMAGENET_STD);

    static Trainer.Data subset(int perClass, int testPerClass) {
        ImageFolder.Splits s = ImageFolder.book(Shared.hotdog());
        return new Trainer.Data(s.train().subset(perClass, 1), null, s.test().subset(testPerClass, 1), SMALL);
    }

    static Network resnet18(NDManager m) {
        Network net = ResNet.build("resnet18", 2, new Layers(m));
        net.loadBody(PthReader.read(Shared.path("fixtures/torchvision/resnet18_seed0.pth")), List.of("fc."));
        net.initHeadXavier(7);
        return net;
    }

    static TrainOptions quiet() {
        return TrainOptions.defaults(s -> { }).withWorkers(2);
    }

    @Test
    void trainingLossFallsOnRealImages() {
        Recipe r = new Recipe("custom", Recipe.Mode.FINETUNE, 4, 16, 2e-5, 10, 1e-3, 0.9, Recipe.Reduction.SUM,
                Recipe.Schedule.CONSTANT, 0, true, 0.08, 0, Recipe.HeadInit.XAVIER, 0.1, false, 1);
        try (NDManager m = Torch.newManager()) {
            Network net = resnet18(m);
            List<EpochMetrics> h = new Trainer(net, r, subset(16, 8), quiet(), List.of()).fit();
            assertEquals(4, h.size());
            System.out.println("loss by epoch: " + h.stream().map(e -> String.format("%.3f", e.trainLoss())).toList());
            assertTrue(h.get(3).trainLoss() < h.get(0).trainLoss() * 0.9, "loss should fall: " + h);
            assertTrue(h.get(3).testAcc() >= 0 && h.get(3).examplesPerSec() > 0);
        }
    }

    @Test
    void frozenBodyParametersAndBatchNormStatisticsStayBitIdentical() {
        Recipe r = new Recipe("custom", Recipe.Mode.FROZEN, 2, 8, 1e-3, 10, 1e-3, 0.9, Recipe.Reduction.SUM,
                Recipe.Schedule.CONSTANT, 0, true, 0.08, 0, Recipe.HeadInit.XAVIER, 0.1, false, 3);
        try (NDManager m = Torch.newManager()) {
            Network net = resnet18(m);
            Map<String, TensorData> before = Trainer.snapshotBody(net);
            float[] headBefore = net.stateDict().get("fc.weight").toFloats();
            new Trainer(net, r, subset(8, 4), quiet(), List.of()).fit();
            Map<String, TensorData> after = Trainer.snapshotBody(net);
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
        Recipe r = new Recipe("custom", Recipe.Mode.FINETUNE, 1, 8, 1e-4, 10, 1e-3, 0.9, Recipe.Reduction.SUM,
                Recipe.Schedule.COSINE, 1, true, 0.08, 0, Recipe.HeadInit.XAVIER, 0.1, false, 5);
        StateDict[] out = new StateDict[2];
        for (int run = 0; run < 2; run++) {
            try (NDManager m = Torch.newManager()) {
                Network net = resnet18(m);
                new Trainer(net, r, new Trainer.Data(subset(8, 1).train(), null, null, SMALL), quiet(), List.of()).fit();
                out[run] = net.stateDict();
            }
        }
        for (String k : out[0].names()) {
            assertEquals(out[0].get(k).bytes(), out[1].get(k).bytes(), k);
        }
    }
}
