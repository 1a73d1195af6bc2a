package dev.graft.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.graft.Torchvision;
import dev.graft.model.nn.Layers;
import dev.graft.model.nn.Torch;
import dev.graft.weights.Npy;
import dev.graft.weights.PthReader;
import dev.graft.weights.StateDict;
import dev.graft.weights.TensorData;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every zoo architecture at full size against torchvision: torchvision builds it with seeded random weights
 * (BatchNorm statistics randomised too, so evaluation mode is not the identity), saves its state_dict, an input
 * batch and its logits in evaluation mode and in training mode (batch statistics; dropout and stochastic depth
 * off); graft loads the state_dict strictly by name and must give the same logits.
 */
@Tag("slow")
class ArchitectureParityTest {
    static final String SCRIPT = """
            import sys, torch, numpy as np, torchvision
            name, out = sys.argv[1], sys.argv[2]
            torch.manual_seed(0)
            m = torchvision.models.get_model(name, num_classes=7)
            with torch.no_grad():
                for mod in m.modules():
                    if isinstance(mod, torch.nn.BatchNorm2d):
                        mod.running_mean.normal_(0, 0.1)
                        mod.running_var.uniform_(0.5, 1.5)
                        mod.weight.uniform_(0.5, 1.5)
                        mod.bias.normal_(0, 0.1)
                    if isinstance(mod, torch.nn.LayerNorm):
                        mod.weight.uniform_(0.5, 1.5)
                        mod.bias.normal_(0, 0.1)
                for p in m.parameters():
                    if p.dim() == 1 and float(p.abs().sum()) == 0:
                        p.normal_(0, 0.02)  # zero-initialised biases, layer scales and heads: make them count
                    if p.dim() >= 2 and float(p.abs().sum()) == 0:
                        p.normal_(0, 0.02)
            size = int(sys.argv[3])
            x = torch.randn(2, 3, size, size)
            m.eval()
            with torch.no_grad():
                y = m(x)
            torch.save(m.state_dict(), out + "/state_dict.pth")
            for mod in m.modules():
                if isinstance(mod, torch.nn.Dropout):
                    mod.p = 0.0
                if type(mod).__name__ == "StochasticDepth":
                    mod.p = 0.0
            m.train()
            with torch.no_grad():
                yt = m(x)
            np.save(out + "/input.npy", x.numpy())
            np.save(out + "/eval_logits.npy", y.numpy())
            np.save(out + "/train_logits.npy", yt.numpy())
            with open(out + "/keys.txt", "w") as f:
                f.write("\\n".join(k for k in m.state_dict() if not k.endswith("num_batches_tracked")))
            """;

    @ParameterizedTest
    @ValueSource(strings = {"resnet18", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3", "convnext_tiny", "convnext_small", "regnet_y_800mf", "vit_b_16"})
    void logitsMatchTorchvision(String name) throws Exception {
        Architecture arch = Architectures.get(name);
        int size = arch.weights().preprocessing().crop();
        Path dir = Torchvision.workDir("parity-" + name);
        Torchvision.run(SCRIPT, name, dir.toAbsolutePath().toString(), Integer.toString(size));
        StateDict sd = PthReader.read(dir.resolve("state_dict.pth"));
        TensorData input = Npy.read(dir.resolve("input.npy"));
        float[] evalWant = Npy.read(dir.resolve("eval_logits.npy")).toFloats();
        float[] trainWant = Npy.read(dir.resolve("train_logits.npy")).toFloats();
        List<String> keys = java.nio.file.Files.readAllLines(dir.resolve("keys.txt"));
        try (NDManager m = Torch.newManager()) {
            Network net = new Backbone(arch, "test", null, null, List.of(), null).newNetwork(7, new Layers(m));
            assertEquals(keys, List.copyOf(net.namedParameters().keySet()), "torchvision's names, in torchvision's order");
            net.loadAll(sd);
            NDArray x = m.create(FloatBuffer.wrap(input.toFloats()), new Shape(input.shape()));
            assertClose(evalWant, logits(net, x, false), name + " eval");
            net.compute().prepareInference();
            assertClose(evalWant, logits(net, x, false), name + " eval, BatchNorm folded");
            net.compute().releaseInference();
            net.compute().setStochastic(false);
            assertClose(trainWant, logits(net, x, true), name + " training forward");
        }
    }

    static float[] logits(Network net, NDArray x, boolean training) {
        return Torch.noGrad(() -> net.apply(x, training).toFloatArray());
    }

    /** Within 1e-4 relative (L2 over the batch) and 1e-4 absolute per logit scaled by the largest. */
    static void assertClose(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        double num = 0;
        double den = 0;
        double maxAbs = 0;
        double scale = 0;
        for (int i = 0; i < want.length; i++) {
            num += (got[i] - want[i]) * (double) (got[i] - want[i]);
            den += want[i] * (double) want[i];
            maxAbs = Math.max(maxAbs, Math.abs(got[i] - want[i]));
            scale = Math.max(scale, Math.abs(want[i]));
        }
        double rel = Math.sqrt(num / den);
        System.out.printf("%s: relative L2 %.2e, max abs %.2e (logits up to %.2f)%n", what, rel, maxAbs, scale);
        assertTrue(rel < 1e-4, what + ": relative L2 error " + rel);
        assertTrue(maxAbs < 1e-4 * Math.max(1, scale), what + ": max abs error " + maxAbs);
    }
}
