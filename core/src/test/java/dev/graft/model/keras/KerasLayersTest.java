package dev.graft.model.keras;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.model.nn.Layers;
import dev.graft.model.nn.Params;
import dev.graft.model.nn.Torch;
import dev.graft.util.Json;
import dev.graft.weights.WeightsException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;
import java.util.function.DoubleUnaryOperator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Keras layer types on small graphs, each against a direct computation of what Keras defines (NHWC, TensorFlow
 * 'same' padding, averages over the valid pixels of a window), so what the import accepts is what it runs.
 */
class KerasLayersTest {
    static final int H = 5;
    static final int W = 4;
    static final int C = 2;

    /** A Functional model_config: an input of H x W x C, then layers given as (class, name, inputs, config). */
    static final class Graph {
        final ArrayNode layers = Json.MAPPER.createArrayNode();

        Graph() {
            ObjectNode in = layers.addObject().put("class_name", "InputLayer").put("name", "in");
            in.putObject("config").put("name", "in").putArray("batch_input_shape").addNull().add(H).add(W).add(C);
            in.putArray("inbound_nodes");
        }

        ObjectNode layer(String cls, String name, List<String> inputs) {
            ObjectNode l = layers.addObject().put("class_name", cls).put("name", name);
            ObjectNode cfg = l.putObject("config").put("name", name);
            ArrayNode node = l.putArray("inbound_nodes").addArray();
            for (String i : inputs) {
                node.addArray().add(i).add(0).add(0).addObject();
            }
            return cfg;
        }

        /** The model with {@code out} feeding a Dense classifier (cut off: the body ends at {@code out}). */
        ObjectNode model(String out, boolean flatten) {
            String last = out;
            if (flatten) {
                layer("Flatten", "flat", List.of(out));
                last = "flat";
            }
            layer("Dense", "classifier", List.of(last)).put("units", 3);
            ObjectNode m = Json.object().put("class_name", "Model");
            ObjectNode c = m.putObject("config");
            c.set("layers", layers);
            c.putArray("input_layers").addArray().add("in").add(0).add(0);
            c.putArray("output_layers").addArray().add("classifier").add(0).add(0);
            return m;
        }
    }

    /** Runs the body on an NHWC input; returns the features (the cut's output flattened in Keras order). */
    static float[] run(ObjectNode model, float[] nhwc, java.util.function.Consumer<KerasBody> weights) {
        KerasGraph g = KerasGraph.parse(model, "classifier", "test");
        try (NDManager m = Torch.newManager()) {
            KerasBody body = new KerasBody(g, new Layers(m));
            weights.accept(body);
            NDArray x = m.create(nhwc, new Shape(1, H, W, C)).transpose(0, 3, 1, 2);
            return Torch.noGrad(() -> body.apply(x, false).toFloatArray());
        }
    }

    static float[] input(long seed) {
        float[] v = new float[H * W * C];
        Random r = new Random(seed);
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextGaussian() * 2);
        }
        return v;
    }

    static float at(float[] nhwc, int y, int x, int c) {
        return nhwc[(y * W + x) * C + c];
    }

    /** TensorFlow 'same' pooling: pad total max((ceil(n/s)-1)*s + k - n, 0), the odd pixel after; windows over valid pixels. */
    static float[] pool(float[] in, int k, int s, boolean same, boolean max) {
        int oh = same ? (H + s - 1) / s : (H - k) / s + 1;
        int ow = same ? (W + s - 1) / s : (W - k) / s + 1;
        int top = same ? Math.max((oh - 1) * s + k - H, 0) / 2 : 0;
        int left = same ? Math.max((ow - 1) * s + k - W, 0) / 2 : 0;
        float[] out = new float[oh * ow * C];
        for (int y = 0; y < oh; y++) {
            for (int x = 0; x < ow; x++) {
                for (int c = 0; c < C; c++) {
                    double acc = max ? Double.NEGATIVE_INFINITY : 0;
                    int n = 0;
                    for (int dy = 0; dy < k; dy++) {
                        for (int dx = 0; dx < k; dx++) {
                            int iy = y * s - top + dy;
                            int ix = x * s - left + dx;
                            if (iy < 0 || iy >= H || ix < 0 || ix >= W) {
                                continue;
                            }
                            acc = max ? Math.max(acc, at(in, iy, ix, c)) : acc + at(in, iy, ix, c);
                            n++;
                        }
                    }
                    out[(y * ow + x) * C + c] = (float) (max ? acc : acc / n);
                }
            }
        }
        return out;
    }

    @Test
    void poolingWithSameAndValidPaddingAndFlattenInKerasOrder() {
        float[] in = input(1);
        for (String cls : new String[] {"MaxPooling2D", "AveragePooling2D"}) {
            for (String padding : new String[] {"same", "valid"}) {
                Graph g = new Graph();
                ObjectNode p = g.layer(cls, "pool", List.of("in")).put("padding", padding);
                p.putArray("pool_size").add(3).add(3);
                p.putArray("strides").add(2).add(2);
                float[] got = run(g.model("pool", true), in, b -> { });
                assertArrayEquals(pool(in, 3, 2, padding.equals("same"), cls.startsWith("Max")), got, 1e-5f, cls + " " + padding);
            }
        }
    }

    @Test
    void globalPoolingAddAndConcatenate() {
        float[] in = input(2);
        Graph g = new Graph();
        g.layer("MaxPooling2D", "a", List.of("in")).put("padding", "same").putArray("pool_size").add(1).add(1);
        g.layer("Add", "sum", List.of("in", "a"));
        g.layer("Concatenate", "cat", List.of("sum", "in")).put("axis", -1);
        g.layer("GlobalAveragePooling2D", "gap", List.of("cat"));
        float[] got = run(g.model("gap", false), in, b -> { });
        // cat = [2x, x] along channels; gap = channel means
        float[] want = new float[2 * C];
        for (int c = 0; c < C; c++) {
            double s = 0;
            for (int y = 0; y < H; y++) {
                for (int x = 0; x < W; x++) {
                    s += at(in, y, x, c);
                }
            }
            want[c] = (float) (2 * s / (H * W));
            want[C + c] = (float) (s / (H * W));
        }
        assertArrayEquals(want, got, 1e-5f);
        Graph gm = new Graph();
        gm.layer("GlobalMaxPooling2D", "gmp", List.of("in"));
        float[] max = run(gm.model("gmp", false), in, b -> { });
        for (int c = 0; c < C; c++) {
            float m = Float.NEGATIVE_INFINITY;
            for (int y = 0; y < H; y++) {
                for (int x = 0; x < W; x++) {
                    m = Math.max(m, at(in, y, x, c));
                }
            }
            assertEquals(m, max[c], 1e-6f);
        }
    }

    @Test
    void everyAcceptedActivationRuns() {
        float[] in = input(3);
        for (String act : KerasLayers.ACTIVATIONS.keySet()) {
            if (act.equals("softmax")) {
                continue; // over channels; checked below
            }
            Graph g = new Graph();
            g.layer("Activation", "act", List.of("in")).put("activation", act);
            float[] got = run(g.model("act", true), in, b -> { });
            DoubleUnaryOperator f = switch (act) {
                case "linear" -> v -> v;
                case "relu" -> v -> Math.max(v, 0);
                case "relu6" -> v -> Math.min(Math.max(v, 0), 6);
                case "sigmoid" -> v -> 1 / (1 + Math.exp(-v));
                case "hard_sigmoid" -> v -> Math.min(Math.max(v / 6 + 0.5, 0), 1);
                case "tanh" -> Math::tanh;
                case "swish", "silu" -> v -> v / (1 + Math.exp(-v));
                case "gelu" -> v -> 0.5 * v * (1 + erf(v / Math.sqrt(2)));
                case "elu" -> v -> v > 0 ? v : Math.exp(v) - 1;
                case "softplus" -> v -> Math.log1p(Math.exp(v));
                default -> throw new AssertionError("no reference for activation " + act);
            };
            for (int i = 0; i < in.length; i++) {
                assertEquals(f.applyAsDouble(in[i]), got[i], 1e-4, act + " at " + in[i]);
            }
        }
        Graph g = new Graph();
        g.layer("Activation", "act", List.of("in")).put("activation", "softmax");
        float[] sm = run(g.model("act", true), in, b -> { });
        assertEquals(1.0, sm[0] + sm[1], 1e-5);
    }

    @Test
    void denseOnAFlattenedInputUsesKerasOrder() {
        float[] in = input(4);
        Graph g = new Graph();
        g.layer("Flatten", "f", List.of("in"));
        g.layer("Dense", "d", List.of("f")).put("units", 2).put("activation", "linear");
        float[] kernel = new float[H * W * C * 2];
        for (int i = 0; i < kernel.length; i++) {
            kernel[i] = (i % 7) * 0.1f - 0.3f;
        }
        float[] got = run(g.model("d", false), in, b -> {
            // graft keeps torch's (out, in) layout: transpose Keras's (in, out) kernel
            float[] w = new float[kernel.length];
            for (int i = 0; i < H * W * C; i++) {
                for (int o = 0; o < 2; o++) {
                    w[o * H * W * C + i] = kernel[i * 2 + o];
                }
            }
            Params.set(b.names().get("d/kernel"), w);
            Params.set(b.names().get("d/bias"), new float[] {0.5f, -1f});
        });
        for (int o = 0; o < 2; o++) {
            double s = o == 0 ? 0.5 : -1;
            for (int i = 0; i < H * W * C; i++) {
                s += in[i] * kernel[i * 2 + o];
            }
            assertEquals(s, got[o], 1e-4);
        }
    }

    @Test
    void unsupportedTypesAndActivationsAreRefusedByName() {
        Graph g = new Graph();
        g.layer("LSTM", "rnn", List.of("in"));
        WeightsException e = assertThrows(WeightsException.class, () -> KerasGraph.parse(g.model("rnn", true), "classifier", "m.json"));
        assertTrue(e.getMessage().contains("'rnn' has type LSTM") && e.getMessage().contains("Conv2D"), e.getMessage());
        Graph a = new Graph();
        a.layer("Activation", "act", List.of("in")).put("activation", "selu");
        e = assertThrows(WeightsException.class, () -> KerasGraph.parse(a.model("act", true), "classifier", "m.json"));
        assertTrue(e.getMessage().contains("activation 'selu'") && e.getMessage().contains("elu"), e.getMessage());
    }

    /** erf through Numerical Recipes' erfc approximation (error below 1.2e-7). */
    static double erf(double x) {
        double t = 1 / (1 + 0.5 * Math.abs(x));
        double y = 1 - t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? y : -y;
    }
}
