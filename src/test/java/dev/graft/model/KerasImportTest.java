package dev.graft.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.graft.Shared;
import dev.graft.weights.Npy;
import dev.graft.weights.StateDict;
import dev.graft.weights.TensorData;
import dev.graft.weights.TfjsLayers;
import org.junit.jupiter.api.Test;

import java.nio.FloatBuffer;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KerasImportTest {

    @Test
    void mobilenetReproducesKerasProbabilitiesAndTop5() throws Exception {
        TfjsLayers.Model tfjs = TfjsLayers.read(Shared.path("models/keras-mobilenet_v1_0.75_224/model.json"));
        assertEquals(137, tfjs.weights().size());
        assertEquals(1000, tfjs.labels().size());
        KerasGraph.Graph g = KerasGraph.parse(tfjs.modelConfig(), null, "mobilenet");
        assertEquals("conv_preds", g.classifier());
        assertEquals("dropout", g.cut());
        TensorData input = Npy.read(Shared.path("fixtures/preprocessing/keras_input.npy"));
        float[] wantProbs = Npy.read(Shared.path("fixtures/mobilenet/keras_probs.npy")).toFloats();
        float[] wantGap = Npy.read(Shared.path("fixtures/mobilenet/keras_gap.npy")).toFloats();
        JsonNode top5 = new ObjectMapper().readTree(Shared.path("fixtures/mobilenet/top5.json").toFile());
        try (NDManager m = Torch.newManager()) {
            Network net = KerasGraph.build(g, 1000, new Layers(m), "mobilenet_v1_0.75");
            StateDict sd = KerasGraph.toGraftLayout(g, tfjs.weights());
            net.loadBody(sd, List.of("conv_preds/"));
            KerasGraph.SourceClassifier src = KerasGraph.sourceClassifier(g, tfjs.weights());
            assertEquals(1000, src.classes());
            assertEquals(768, src.features());
            for (int c = 0; c < 1000; c++) {
                net.setHeadRow(c, java.util.Arrays.copyOfRange(src.weight(), c * 768, (c + 1) * 768), src.bias()[c]);
            }
            NDArray nhwc = m.create(FloatBuffer.wrap(input.toFloats()), new Shape(input.shape()));
            NDArray x = nhwc.transpose(0, 3, 1, 2);
            ParameterStore ps = new ParameterStore(m, false);
            float[] gap = net.features(ps, new NDList(x), false).singletonOrThrow().toFloatArray();
            float[] probs = net.forward(ps, new NDList(x), false).singletonOrThrow().softmax(1).toFloatArray();
            assertEquals(maxAbs(wantGap, gap) < 1e-3, true, "gap diff " + maxAbs(wantGap, gap));
            double d = maxAbs(wantProbs, probs);
            System.out.println("mobilenet max |prob diff| = " + d);
            assertTrue(d <= 1e-4, "max abs prob diff " + d);
            // predict and serve fold BatchNorm into the convolutions: the same probabilities and ranking
            net.foldBatchNorm();
            float[] folded = net.forward(ps, new NDList(x), false).singletonOrThrow().softmax(1).toFloatArray();
            double df = maxAbs(wantProbs, folded);
            System.out.println("mobilenet, BatchNorm folded: max |prob diff| = " + df);
            assertTrue(df <= 1e-4, "folded: max abs prob diff " + df);
            net.unfoldBatchNorm();
            for (int i = 0; i < 3; i++) {
                assertEquals(argsortDesc(probs, i * 1000, 1000)[0], argsortDesc(folded, i * 1000, 1000)[0]);
                JsonNode expected = top5.get("images").get(i).get("top5");
                int[] order = argsortDesc(probs, i * 1000, 1000);
                for (int k = 0; k < 5; k++) {
                    assertEquals(expected.get(k).get("index").asInt(), order[k], "image " + i + " rank " + k);
                    assertEquals(expected.get(k).get("label").asText(), tfjs.labels().get(order[k]));
                }
            }
        }
    }

    static double maxAbs(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    static int[] argsortDesc(float[] v, int off, int n) {
        return java.util.stream.IntStream.range(0, n).boxed().sorted((p, q) -> Float.compare(v[off + q], v[off + p]))
                .mapToInt(Integer::intValue).toArray();
    }
}
