package dev.graft.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dev.graft.Shared;
import dev.graft.weights.Npy;
import dev.graft.weights.PthReader;
import dev.graft.weights.StateDict;
import dev.graft.weights.TensorData;
import dev.graft.weights.WeightsException;
import org.junit.jupiter.api.Test;

import java.nio.FloatBuffer;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ResNetParityTest {

    @Test
    void torchvisionResnet18GivesReferenceLogits() throws Exception {
        StateDict sd = PthReader.read(Shared.path("fixtures/torchvision/resnet18_seed0.pth"));
        TensorData input = Npy.read(Shared.path("fixtures/torchvision/resnet18_seed0_input.npy"));
        float[] want = Npy.read(Shared.path("fixtures/torchvision/resnet18_seed0_logits.npy")).toFloats();
        try (NDManager m = Torch.newManager()) {
            Network net = ResNet.build("resnet18", 1000, new Layers(m));
            net.loadAll(sd);
            NDArray x = m.create(FloatBuffer.wrap(input.toFloats()), new Shape(input.shape()));
            ParameterStore ps = new ParameterStore(m, false);
            assertClose(want, net.forward(ps, new NDList(x), false).singletonOrThrow().toFloatArray(), "eval");
            // evaluation, predict and serve fold BatchNorm into the convolutions once
            net.foldBatchNorm();
            assertClose(want, net.forward(ps, new NDList(x), false).singletonOrThrow().toFloatArray(), "BatchNorm folded");
            net.unfoldBatchNorm();
            assertClose(want, net.forward(ps, new NDList(x), false).singletonOrThrow().toFloatArray(), "unfolded again");
        }
    }

    @Test
    void trainingForwardIgnoresTheFold() throws Exception {
        StateDict sd = PthReader.read(Shared.path("fixtures/torchvision/resnet18_seed0.pth"));
        TensorData input = Npy.read(Shared.path("fixtures/torchvision/resnet18_seed0_input.npy"));
        try (NDManager m = Torch.newManager()) {
            Network a = ResNet.build("resnet18", 1000, new Layers(m));
            Network b = ResNet.build("resnet18", 1000, new Layers(m));
            a.loadAll(sd);
            b.loadAll(sd);
            b.foldBatchNorm();
            NDArray x = m.create(FloatBuffer.wrap(input.toFloats()), new Shape(input.shape()));
            ParameterStore ps = new ParameterStore(m, false);
            // training mode normalises with the batch's statistics and updates the running ones: identical in both
            float[] ta = a.forward(ps, new NDList(x), true).singletonOrThrow().toFloatArray();
            float[] tb = b.forward(ps, new NDList(x), true).singletonOrThrow().toFloatArray();
            org.junit.jupiter.api.Assertions.assertArrayEquals(ta, tb);
            float[] mean = a.stateDict().get("layer1.0.bn1.running_mean").toFloats();
            org.junit.jupiter.api.Assertions.assertArrayEquals(mean, b.stateDict().get("layer1.0.bn1.running_mean").toFloats());
        }
    }

    private static void assertClose(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length);
        double num = 0;
        double den = 0;
        double maxAbs = 0;
        for (int i = 0; i < want.length; i++) {
            num += (got[i] - want[i]) * (double) (got[i] - want[i]);
            den += want[i] * (double) want[i];
            maxAbs = Math.max(maxAbs, Math.abs(got[i] - want[i]));
        }
        double rel = Math.sqrt(num / den);
        assertTrue(rel < 1e-4, what + ": relative L2 error " + rel);
        assertTrue(maxAbs < 1e-4, what + ": max abs error " + maxAbs);
    }

    @Test
    void parameterNamesAreTorchvisions() throws Exception {
        StateDict sd = PthReader.read(Shared.path("fixtures/torchvision/resnet18_seed0.pth"));
        try (NDManager m = Torch.newManager()) {
            Network net = ResNet.build("resnet18", 2, new Layers(m));
            List<String> ours = List.copyOf(net.namedParameters().keySet());
            List<String> theirs = sd.names().stream().filter(k -> !k.endsWith("num_batches_tracked")).toList();
            assertEquals(theirs, ours);
        }
    }

    @Test
    void wrongArchitectureListsTheKeys() throws Exception {
        StateDict sd = PthReader.read(Shared.path("fixtures/torchvision/resnet18_seed0.pth"));
        try (NDManager m = Torch.newManager()) {
            Network net = ResNet.build("resnet34", 2, new Layers(m));
            WeightsException e = assertThrows(WeightsException.class, () -> net.loadBody(sd, List.of("fc.")));
            assertTrue(e.getMessage().contains("missing keys") && e.getMessage().contains("layer1.2.conv1.weight"), e.getMessage());
        }
        try (NDManager m = Torch.newManager()) {
            Network net = ResNet.build("resnet50", 2, new Layers(m));
            WeightsException e = assertThrows(WeightsException.class, () -> net.loadBody(sd, List.of("fc.")));
            assertTrue(e.getMessage().contains("shape mismatches"), e.getMessage());
        }
    }
}
