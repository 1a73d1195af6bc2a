package dev.graft.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.graft.Shared;
import dev.graft.model.nn.Layers;
import dev.graft.model.nn.Torch;
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
            Network net = resnet(m, "resnet18", 1000);
            net.loadAll(sd);
            NDArray x = m.create(FloatBuffer.wrap(input.toFloats()), new Shape(input.shape()));
            assertClose(want, logits(net, x, false), "eval");
            // evaluation, predict and serve fold BatchNorm into the convolutions once
            net.compute().prepareInference();
            assertClose(want, logits(net, x, false), "BatchNorm folded");
            net.compute().releaseInference();
            assertClose(want, logits(net, x, false), "unfolded again");
            net.compute().setChannelsLast(false);
            assertClose(want, logits(net, x, false), "channels-first");
        }
    }

    @Test
    void trainingForwardIgnoresTheFold() throws Exception {
        StateDict sd = PthReader.read(Shared.path("fixtures/torchvision/resnet18_seed0.pth"));
        TensorData input = Npy.read(Shared.path("fixtures/torchvision/resnet18_seed0_input.npy"));
        try (NDManager m = Torch.newManager()) {
            Network a = resnet(m, "resnet18", 1000);
            Network b = resnet(m, "resnet18", 1000);
            a.loadAll(sd);
            b.loadAll(sd);
            b.compute().prepareInference();
            NDArray x = m.create(FloatBuffer.wrap(input.toFloats()), new Shape(input.shape()));
            // training mode normalises with the batch's statistics and updates the running ones: identical in both
            float[] ta = logits(a, x, true);
            float[] tb = logits(b, x, true);
            org.junit.jupiter.api.Assertions.assertArrayEquals(ta, tb);
            float[] mean = a.stateDict().get("layer1.0.bn1.running_mean").toFloats();
            org.junit.jupiter.api.Assertions.assertArrayEquals(mean, b.stateDict().get("layer1.0.bn1.running_mean").toFloats());
        }
    }

    static Network resnet(NDManager m, String name, int classes) {
        return new Backbone(Architectures.get(name), "test", null, null, List.of(), null).newNetwork(classes, new Layers(m));
    }

    static float[] logits(Network net, NDArray x, boolean training) {
        return Torch.noGrad(() -> net.apply(x, training).toFloatArray());
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
            Network net = resnet(m, "resnet18", 2);
            List<String> ours = List.copyOf(net.namedParameters().keySet());
            List<String> theirs = sd.names().stream().filter(k -> !k.endsWith("num_batches_tracked")).toList();
            assertEquals(theirs, ours);
        }
    }

    @Test
    void wrongArchitectureListsTheKeys() throws Exception {
        StateDict sd = PthReader.read(Shared.path("fixtures/torchvision/resnet18_seed0.pth"));
        try (NDManager m = Torch.newManager()) {
            Network net = resnet(m, "resnet34", 2);
            WeightsException e = assertThrows(WeightsException.class, () -> net.loadBody(sd, List.of("fc.")));
            assertTrue(e.getMessage().contains("missing keys") && e.getMessage().contains("layer1.2.conv1.weight"), e.getMessage());
        }
        try (NDManager m = Torch.newManager()) {
            Network net = resnet(m, "resnet50", 2);
            WeightsException e = assertThrows(WeightsException.class, () -> net.loadBody(sd, List.of("fc.")));
            assertTrue(e.getMessage().contains("shape mismatches"), e.getMessage());
        }
    }
}
