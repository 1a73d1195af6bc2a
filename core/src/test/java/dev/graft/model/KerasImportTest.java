package dev.graft.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.graft.Shared;
import dev.graft.model.keras.KerasGraph;
import dev.graft.model.nn.Layers;
import dev.graft.model.nn.Torch;
import dev.graft.weights.Npy;
import dev.graft.weights.SourceClassifier;
import dev.graft.weights.TensorData;
import dev.graft.weights.TfjsLayers;
import org.junit.jupiter.api.Test;

import java.nio.FloatBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KerasImportTest {

    @Test
    void mobilenetReproducesKerasProbabilitiesAndTop5() throws Exception {
        TfjsLayers.Model tfjs = TfjsLayers.read(Shared.path("models/keras-mobilenet_v1_0.75_224/model.json"));
        assertEquals(137, tfjs.weights().size());
        assertEquals(1000, tfjs.labels().size());
        KerasGraph g = KerasGraph.parse(tfjs.modelConfig(), null, "mobilenet");
        assertEquals("conv_preds", g.classifier());
        assertEquals("dropout", g.cut());
        Backbone b = Backbone.load(Architectures.get("mobilenet_v1_0.75"), Shared.path("models/keras-mobilenet_v1_0.75_224/model.json"),
                true, null, null, s -> { });
        assertEquals("mobilenet_v1_0.75", b.architecture().name());
        TensorData input = Npy.read(Shared.path("fixtures/preprocessing/keras_input.npy"));
        float[] wantProbs = Npy.read(Shared.path("fixtures/mobilenet/keras_probs.npy")).toFloats();
        float[] wantGap = Npy.read(Shared.path("fixtures/mobilenet/keras_gap.npy")).toFloats();
        JsonNode top5 = new ObjectMapper().readTree(Shared.path("fixtures/mobilenet/top5.json").toFile());
        try (NDManager m = Torch.newManager()) {
            Network net = sourceNetwork(b, m);
            SourceClassifier src = b.classifier();
            assertEquals(1000, src.classes());
            assertEquals(768, src.features());
            NDArray nhwc = m.create(FloatBuffer.wrap(input.toFloats()), new Shape(input.shape()));
            NDArray x = nhwc.transpose(0, 3, 1, 2);
            float[] gap = Torch.noGrad(() -> net.features(x, false).toFloatArray());
            float[] probs = probs(net, x);
            assertEquals(maxAbs(wantGap, gap) < 1e-3, true, "gap diff " + maxAbs(wantGap, gap));
            double d = maxAbs(wantProbs, probs);
            System.out.println("mobilenet max |prob diff| = " + d);
            assertTrue(d <= 1e-4, "max abs prob diff " + d);
            // predict and serve fold BatchNorm into the convolutions: the same probabilities and ranking
            net.compute().prepareInference();
            float[] folded = probs(net, x);
            double df = maxAbs(wantProbs, folded);
            System.out.println("mobilenet, BatchNorm folded: max |prob diff| = " + df);
            assertTrue(df <= 1e-4, "folded: max abs prob diff " + df);
            net.compute().releaseInference();
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

    /**
     * MobileNet v1's stem is a stride-2 'same' convolution: channels-last, the NCHW batch goes into its padded buffer in
     * one copy (no constant_pad_nd for it in libtorch's trace, in inference and in training), with the values of the contiguous
     * path, which pads with a copy of its own.
     */
    @Test
    void theStemPadsTheNchwBatchIntoChannelsLastInOneCopy(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        Backbone b = Backbone.load(Architectures.get("mobilenet_v1_0.75"), Shared.path("models/keras-mobilenet_v1_0.75_224/model.json"),
                true, null, null, s -> { });
        try (NDManager m = Torch.newManager()) {
            Network net = sourceNetwork(b, m);
            NDArray x = m.randomNormal(new Shape(2, 3, 224, 224));
            for (boolean training : new boolean[] {false, true}) {
                net.compute().setChannelsLast(true, true);
                java.nio.file.Path trace = dir.resolve("trace-" + training + ".json");
                ai.djl.pytorch.jni.JniUtils.startProfile(false, false, false);
                Torch.seed(7); // the same dropout mask in training on both paths
                float[] fused = Torch.noGrad(() -> net.features(x, training).toFloatArray());
                ai.djl.pytorch.jni.JniUtils.stopProfile(trace.toString());
                java.util.List<String> ops = new java.util.ArrayList<>();
                JsonNode events = new ObjectMapper().readTree(trace.toFile());
                (events.isArray() ? events : events.path("traceEvents")).forEach(e -> ops.add(e.path("name").asText()));
                assertTrue(ops.contains("aten::mkldnn_convolution") || ops.contains("aten::convolution"), "no convolution traced: " + ops.size() + " events");
                // training pads the four stride-2 depthwise layers' inputs with a copy; inference writes their ReLU6 padded
                long pads = ops.stream().filter("aten::constant_pad_nd"::equals).count();
                assertEquals(training ? 4 : 0, pads, "training " + training + ": padded copies (the stem's would be one more)");
                net.compute().setChannelsLast(false, false);
                Torch.seed(7);
                float[] plain = Torch.noGrad(() -> net.features(x, training).toFloatArray());
                assertTrue(maxAbs(plain, fused) < 1e-4, "training " + training + ": max diff " + maxAbs(plain, fused));
            }
        }
    }

    /** The source model whole: the body with its own classifier as the head (1000 ImageNet classes). */
    static Network sourceNetwork(Backbone b, NDManager m) {
        Network net = b.newNetwork(b.classifier().classes(), new Layers(m));
        b.copyBody(net);
        net.setHead(b.classifier().weight(), b.classifier().bias());
        return net;
    }

    static float[] probs(Network net, NDArray x) {
        return Torch.noGrad(() -> net.apply(x, false).softmax(1).toFloatArray());
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
