package dev.graft.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.graft.model.nn.Layers;
import dev.graft.model.nn.Precision;
import dev.graft.model.nn.Torch;
import dev.graft.train.Sgd;
import dev.graft.train.ParamGroups;
import dev.graft.weights.StateDict;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * bfloat16 mixed precision: convolutions and matrix products in bf16 like torch.autocast on CPU, weights and
 * optimizer state in float32; the same network's bf16 logits stay close to its float32 ones. "auto" is float32
 * on CPUs without native bf16.
 */
class PrecisionTest {

    @Test
    void autoIsFloat32WithoutNativeBf16AndBf16WithIt() {
        try {
            System.setProperty("graft.cpu_flags", "avx2 avx512f avx512_vnni");
            assertEquals(Precision.FP32, Precision.AUTO.resolve());
            assertTrue(Precision.AUTO.describe().contains("no native bfloat16"));
            System.setProperty("graft.cpu_flags", "avx512f avx512_bf16");
            assertEquals(Precision.BF16, Precision.AUTO.resolve());
            System.setProperty("graft.cpu_flags", "amx_tile amx_bf16");
            assertEquals(Precision.BF16, Precision.AUTO.resolve());
            assertEquals(Precision.FP32, Precision.FP32.resolve(), "fp32 asked is fp32 whatever the CPU");
        } finally {
            System.clearProperty("graft.cpu_flags");
        }
    }

    static Stream<String> models() {
        return Architectures.all().stream().map(Architecture::name).filter(n -> !n.equals("keras"));
    }

    @ParameterizedTest
    @MethodSource("models")
    @Tag("slow")
    void bf16LogitsStayCloseToFloat32AndATrainingStepKeepsFloat32Weights(String name) {
        Architecture arch = Architectures.get(name);
        int size = name.startsWith("vit") ? 224 : 96;
        try (NDManager m = Torch.newManager()) {
            Backbone b = new Backbone(arch, "test", null, null, List.of(), null);
            Network net = b.newNetwork(3, new Layers(m));
            arch.initScratch(net, 1);
            net.initHeadXavier(2); // torchvision zero-initialises some heads (ViT): logits must not be trivially equal
            NDArray x = m.randomNormal(0, 1, new Shape(2, 3, size, size), DataType.FLOAT32);
            float[] fp32 = Torch.noGrad(() -> net.apply(x, false).toFloatArray());
            net.compute().setPrecision(Precision.BF16);
            float[] bf16 = Torch.noGrad(() -> net.apply(x, false).toFloatArray());
            double num = 0;
            double den = 0;
            for (int i = 0; i < fp32.length; i++) {
                num += (bf16[i] - fp32[i]) * (double) (bf16[i] - fp32[i]);
                den += fp32[i] * (double) fp32[i];
            }
            double rel = Math.sqrt(num / Math.max(den, 1e-30));
            System.out.printf("%s: bf16 vs fp32 logits relative L2 %.3e%n", name, rel);
            assertTrue(rel < 0.1, name + ": bf16 logits differ from fp32 by " + rel);
            // one training step under bf16: gradients reach the float32 masters, which stay float32 and finite
            StateDict before = net.stateDict();
            try (NDManager step = m.newSubManager(); GradientCollector gc = Torch.engine().newGradientCollector()) {
                NDArray logits = net.apply(x, true);
                gc.backward(logits.logSoftmax(1).get(":, 0").sum().neg());
            }
            new Sgd(0.9).step(ParamGroups.bodyAndHead(net, 0.1, 0.1), 1, Double.NaN);
            StateDict after = net.stateDict();
            assertNotEquals(java.util.Arrays.toString(before.get(net.headName() + ".weight").toFloats()),
                    java.util.Arrays.toString(after.get(net.headName() + ".weight").toFloats()));
            for (var e : net.namedParameters().entrySet()) {
                assertEquals(DataType.FLOAT32, e.getValue().getArray().getDataType(), e.getKey());
                assertEquals(0, after.get(e.getKey()).countNonFinite(), e.getKey());
            }
        }
    }
}
