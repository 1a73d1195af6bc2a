package dev.graft.model.keras;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import dev.graft.model.nn.Activation;
import dev.graft.model.nn.BatchNorm2d;
import dev.graft.model.nn.Conv2d;
import dev.graft.model.nn.Linear;
import dev.graft.onnx.OnnxGraph;
import dev.graft.onnx.OnnxGraph.Value;
import dev.graft.weights.WeightsException;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.UnaryOperator;

/**
 * One factory per Keras layer type, in graft's NCHW layout. The factories' keys are the layer types graft imports
 * and the activation map's keys the activations it runs, so what the import accepts is exactly what runs.
 */
final class KerasLayers {
    private KerasLayers() {
    }

    /**
     * One node of the executed graph: its inputs by name, output shape (C, H, W or features), operation, and the
     * same operation in ONNX ({@code onnx}: the nodes it emits for the input values).
     */
    record Node(String name, List<String> inputs, long[] shape, Op op, OnnxOp onnx) {
    }

    /** A Keras layer's ONNX nodes, reading the values of its inputs (NCHW, as graft runs it). */
    @FunctionalInterface
    interface OnnxOp {
        Value emit(OnnxGraph g, List<Value> inputs);
    }

    @FunctionalInterface
    interface Op {
        NDArray apply(List<NDArray> inputs, boolean training);
    }

    @FunctionalInterface
    interface Factory {
        Node make(KerasGraph.Layer l, JsonNode c, List<long[]> in, KerasBody.Builder b);
    }

    static final Map<String, UnaryOperator<NDArray>> ACTIVATIONS = new LinkedHashMap<>();
    /** The same activations in ONNX, by the same names (a test checks the two key sets are equal). */
    static final Map<String, java.util.function.BiFunction<OnnxGraph, Value, Value>> ONNX_ACTIVATIONS = new LinkedHashMap<>();
    static final Map<String, Factory> FACTORIES = new LinkedHashMap<>();

    static {
        ACTIVATIONS.put("linear", x -> x);
        ACTIVATIONS.put("relu", Activation.RELU::apply);
        ACTIVATIONS.put("relu6", Activation.RELU6::apply); // one op with a one-pass backward (as clip: MobileNet training -35%)
        ACTIVATIONS.put("sigmoid", Activation.SIGMOID::apply);
        ACTIVATIONS.put("hard_sigmoid", Activation.HARDSIGMOID::apply);
        ACTIVATIONS.put("tanh", Activation.TANH::apply);
        ACTIVATIONS.put("swish", Activation.SILU::apply);
        ACTIVATIONS.put("silu", Activation.SILU::apply);
        ACTIVATIONS.put("gelu", Activation.GELU::apply);
        ACTIVATIONS.put("elu", Activation.ELU::apply);
        ACTIVATIONS.put("softplus", Activation.SOFTPLUS::apply);
        ACTIVATIONS.put("softmax", x -> x.softmax(1));
        ONNX_ACTIVATIONS.put("linear", (g, x) -> x);
        ONNX_ACTIVATIONS.put("relu", (g, x) -> Activation.RELU.onnx(g, x));
        ONNX_ACTIVATIONS.put("relu6", (g, x) -> Activation.RELU6.onnx(g, x));
        ONNX_ACTIVATIONS.put("sigmoid", (g, x) -> Activation.SIGMOID.onnx(g, x));
        ONNX_ACTIVATIONS.put("hard_sigmoid", (g, x) -> Activation.HARDSIGMOID.onnx(g, x));
        ONNX_ACTIVATIONS.put("tanh", (g, x) -> Activation.TANH.onnx(g, x));
        ONNX_ACTIVATIONS.put("swish", (g, x) -> Activation.SILU.onnx(g, x));
        ONNX_ACTIVATIONS.put("silu", (g, x) -> Activation.SILU.onnx(g, x));
        ONNX_ACTIVATIONS.put("gelu", (g, x) -> Activation.GELU.onnx(g, x));
        ONNX_ACTIVATIONS.put("elu", (g, x) -> Activation.ELU.onnx(g, x));
        ONNX_ACTIVATIONS.put("softplus", (g, x) -> Activation.SOFTPLUS.onnx(g, x));
        ONNX_ACTIVATIONS.put("softmax", (g, x) -> g.softmax(x, 1));

        FACTORIES.put("InputLayer", KerasLayers::input);
        FACTORIES.put("Conv2D", KerasLayers::conv);
        FACTORIES.put("DepthwiseConv2D", KerasLayers::conv);
        FACTORIES.put("BatchNormalization", KerasLayers::batchNorm);
        FACTORIES.put("Activation", (l, c, in, b) -> {
            if (c.path("activation").asText().equals("relu6")) {
                b.relu6(l.name());
            }
            UnaryOperator<NDArray> f = ACTIVATIONS.get(c.path("activation").asText());
            var fo = ONNX_ACTIVATIONS.get(c.path("activation").asText());
            return new Node(l.name(), l.inputs(), in.get(0), (x, t) -> f.apply(x.get(0)), (g, x) -> fo.apply(g, x.get(0)));
        });
        FACTORIES.put("ReLU", KerasLayers::relu);
        FACTORIES.put("ZeroPadding2D", KerasLayers::zeroPadding);
        FACTORIES.put("MaxPooling2D", KerasLayers::pooling);
        FACTORIES.put("AveragePooling2D", KerasLayers::pooling);
        FACTORIES.put("GlobalAveragePooling2D", KerasLayers::globalPooling);
        FACTORIES.put("GlobalMaxPooling2D", KerasLayers::globalPooling);
        FACTORIES.put("Reshape", KerasLayers::reshape);
        FACTORIES.put("Flatten", KerasLayers::flatten);
        FACTORIES.put("Dropout", (l, c, in, b) -> {
            float rate = (float) c.path("rate").asDouble(0);
            dev.graft.model.nn.Compute compute = b.layers().compute();
            // drops only where the network's forwards are stochastic (as torchvision's dropout through Compute)
            return new Node(l.name(), l.inputs(), in.get(0), (x, t) -> compute.stochastic(t) && rate > 0
                    ? JniUtils.dropout((PtNDArray) x.get(0), rate, true) : x.get(0), (g, x) -> x.get(0));
        });
        FACTORIES.put("Dense", KerasLayers::dense);
        FACTORIES.put("Add", (l, c, in, b) -> new Node(l.name(), l.inputs(), in.get(0), (x, t) -> {
            NDArray a = x.get(0);
            for (int i = 1; i < x.size(); i++) {
                a = a.add(x.get(i));
            }
            return a;
        }, (g, x) -> {
            Value a = x.get(0);
            for (int i = 1; i < x.size(); i++) {
                a = g.add(a, x.get(i));
            }
            return a;
        }));
        FACTORIES.put("Concatenate", KerasLayers::concatenate);
    }

    /** Refuses, naming the layer, a type or activation that graft cannot run. */
    static void check(KerasGraph.Layer l, String source) {
        if (!FACTORIES.containsKey(l.type())) {
            throw new WeightsException(source, "layer '" + l.name() + "' has type " + l.type()
                    + ", which graft cannot import (supported: " + String.join(", ", new TreeSet<>(FACTORIES.keySet())) + ")");
        }
        JsonNode act = l.config().path("activation");
        if (act.isTextual() && !ACTIVATIONS.containsKey(act.asText())) {
            throw new WeightsException(source, "layer '" + l.name() + "': activation '" + act.asText()
                    + "' is not supported (supported: " + String.join(", ", new TreeSet<>(ACTIVATIONS.keySet())) + ")");
        }
    }

    private static Node input(KerasGraph.Layer l, JsonNode c, List<long[]> in, KerasBody.Builder b) {
        JsonNode shape = c.has("batch_input_shape") ? c.get("batch_input_shape") : c.path("batch_shape");
        long[] shp = new long[shape.size() - 1];
        for (int i = 1; i < shape.size(); i++) {
            shp[i - 1] = shape.get(i).isNull() ? 224 : shape.get(i).asLong();
        }
        if (shp.length == 3) {
            shp = new long[] {shp[2], shp[0], shp[1]};
        }
        return new Node(l.name(), l.inputs(), shp, (x, t) -> x.get(0), (g, x) -> x.get(0));
    }

    private static Node conv(KerasGraph.Layer l, JsonNode c, List<long[]> in, KerasBody.Builder b) {
        String n = l.name();
        long[] s0 = in.get(0);
        boolean depthwise = l.type().equals("DepthwiseConv2D");
        int[] k = KerasShapes.pair(c.path("kernel_size"), -1);
        int[] st = KerasShapes.pair(c.path("strides"), 1);
        int[] dil = KerasShapes.pair(c.path("dilation_rate"), 1);
        if (dil[0] != 1 || dil[1] != 1) {
            throw new IllegalArgumentException("layer '" + n + "': dilated convolutions are not supported");
        }
        int inC = (int) s0[0];
        int outC = depthwise ? inC * c.path("depth_multiplier").asInt(1) : c.path("filters").asInt();
        boolean same = c.path("padding").asText("valid").equals("same");
        boolean bias = c.path("use_bias").asBoolean(true);
        // stride 1 with an odd kernel pads symmetrically whatever the input size: let the conv do it
        boolean staticPad = same && st[0] == 1 && st[1] == 1 && k[0] % 2 == 1 && k[1] % 2 == 1;
        int ph = staticPad ? (k[0] - 1) / 2 : 0;
        int pw = staticPad ? (k[1] - 1) / 2 : 0;
        Conv2d conv = b.add(n, b.layers().conv(inC, outC, k[0], k[1], st[0], st[1], ph, pw, 1, depthwise ? inC : 1, bias));
        b.name(n + "/" + (depthwise ? "depthwise_kernel" : "kernel"), conv, "weight");
        if (bias) {
            b.name(n + "/bias", conv, "bias");
        }
        boolean dynamicPad = same && !staticPad;
        String act = c.path("activation").asText("linear");
        UnaryOperator<NDArray> f = ACTIVATIONS.get(act);
        if (act.equals("linear")) {
            b.linearConv(n, conv);
        }
        long[] shp = {outC, KerasShapes.outSize(s0[1], k[0], st[0], same), KerasShapes.outSize(s0[2], k[1], st[1], same)};
        if (dynamicPad) {
            b.samePadConv(n, new KerasBody.PaddedConv(conv, k, st, f));
        }
        var fo = ONNX_ACTIVATIONS.get(act);
        return new Node(n, l.inputs(), shp, (x, t) -> {
            NDArray a = dynamicPad ? KerasShapes.tfSamePad(x.get(0), k, st, 0) : x.get(0);
            NDArray y = conv.apply(a, t);
            if (a != x.get(0)) {
                a.close();
            }
            return f.apply(y);
        }, (g, x) -> {
            Value v = x.get(0);
            // TensorFlow's 'same' padding of this input size as the Conv node's own (asymmetric) pads
            long[] p = dynamicPad ? KerasShapes.tfSamePadding(v.dim(2), v.dim(3), k, st) : new long[4];
            return fo.apply(g, conv.onnx(g, v, new long[] {p[0], p[2], p[1], p[3]}));
        });
    }

    private static Node batchNorm(KerasGraph.Layer l, JsonNode c, List<long[]> in, KerasBody.Builder b) {
        String n = l.name();
        long[] s0 = in.get(0);
        int axis = c.path("axis").isArray() ? c.path("axis").get(0).asInt() : c.path("axis").asInt(-1);
        if (axis != -1 && axis != s0.length) {
            throw new IllegalArgumentException("layer '" + n + "': BatchNormalization over axis " + axis + " is not supported");
        }
        boolean center = c.path("center").asBoolean(true);
        boolean scale = c.path("scale").asBoolean(true);
        float eps = (float) c.path("epsilon").asDouble(1e-3);
        float momentum = (float) (1 - c.path("momentum").asDouble(0.99)); // Keras's 0.99 is torch's 0.01
        BatchNorm2d bn = b.add(n, b.layers().batchNorm((int) s0[0], eps, momentum, scale, center));
        if (scale) {
            b.name(n + "/gamma", bn, "weight");
        }
        if (center) {
            b.name(n + "/beta", bn, "bias");
        }
        b.name(n + "/moving_mean", bn, "running_mean");
        b.name(n + "/moving_variance", bn, "running_var");
        b.batchNorm(n, bn);
        return new Node(n, l.inputs(), s0, (x, t) -> bn.apply(x.get(0), t), (g, x) -> bn.onnx(g, x.get(0)));
    }

    private static Node relu(KerasGraph.Layer l, JsonNode c, List<long[]> in, KerasBody.Builder b) {
        double max = c.path("max_value").isNumber() ? c.path("max_value").asDouble() : Double.NaN;
        double slope = c.path("negative_slope").asDouble(0);
        if (c.path("threshold").asDouble(0) != 0) {
            throw new IllegalArgumentException("layer '" + l.name() + "': ReLU threshold is not supported");
        }
        if (slope == 0 && max == 6) {
            b.relu6(l.name());
            return new Node(l.name(), l.inputs(), in.get(0), (x, t) -> Activation.RELU6.apply(x.get(0)),
                    (g, x) -> Activation.RELU6.onnx(g, x.get(0)));
        }
        return new Node(l.name(), l.inputs(), in.get(0), (x, t) -> {
            NDArray a = slope == 0 ? JniUtils.relu((PtNDArray) x.get(0)) : JniUtils.leakyRelu((PtNDArray) x.get(0), slope);
            return Double.isNaN(max) ? a : a.minimum(max);
        }, (g, x) -> {
            Value a = slope == 0 ? g.unary("Relu", x.get(0)) : g.unary("LeakyRelu", x.get(0), dev.graft.onnx.OnnxAttr.of("alpha", (float) slope));
            return Double.isNaN(max) ? a : g.node("Min", a.shape(), a, g.scalar((float) max));
        });
    }

    private static Node zeroPadding(KerasGraph.Layer l, JsonNode c, List<long[]> in, KerasBody.Builder b) {
        int[] p = KerasShapes.padding(c.path("padding"));
        long[] s0 = in.get(0);
        long[] shp = {s0[0], s0[1] + p[0] + p[1], s0[2] + p[2] + p[3]};
        return new Node(l.name(), l.inputs(), shp, (x, t) -> x.get(0).pad(new Shape(p[2], p[3], p[0], p[1]), 0),
                (g, x) -> g.pad(x.get(0), new long[] {p[0], p[2], p[1], p[3]}, 0f));
    }

    private static Node pooling(KerasGraph.Layer l, JsonNode c, List<long[]> in, KerasBody.Builder b) {
        boolean max = l.type().startsWith("Max");
        long[] s0 = in.get(0);
        int[] k = KerasShapes.pair(c.path("pool_size"), 2);
        int[] st = c.path("strides").isNull() || c.path("strides").isMissingNode() ? k : KerasShapes.pair(c.path("strides"), -1);
        boolean same = c.path("padding").asText("valid").equals("same");
        long[] shp = {s0[0], KerasShapes.outSize(s0[1], k[0], st[0], same), KerasShapes.outSize(s0[2], k[1], st[1], same)};
        Shape ks = new Shape(k[0], k[1]);
        Shape ss = new Shape(st[0], st[1]);
        Shape zero = new Shape(0, 0);
        return new Node(l.name(), l.inputs(), shp, (x, t) -> {
            NDArray a = x.get(0);
            if (max) {
                return (same ? KerasShapes.tfSamePad(a, k, st, Float.NEGATIVE_INFINITY) : a).getNDArrayInternal().maxPool(ks, ss, zero, false);
            }
            if (!same) {
                return a.getNDArrayInternal().avgPool(ks, ss, zero, false, true);
            }
            // TensorFlow averages over the window's valid pixels only
            NDArray sum = KerasShapes.tfSamePad(a, k, st, 0).getNDArrayInternal().avgPool(ks, ss, zero, false, true);
            NDArray ones = a.onesLike().get(":, :1");
            NDArray count = KerasShapes.tfSamePad(ones, k, st, 0).getNDArrayInternal().avgPool(ks, ss, zero, false, true);
            return sum.div(count);
        }, (g, x) -> {
            Value v = x.get(0);
            // MaxPool ignores its padding, AveragePool (count_include_pad 0) averages the valid pixels: TensorFlow's 'same'
            long[] p = same ? KerasShapes.tfSamePadding(v.dim(2), v.dim(3), k, st) : new long[4];
            return g.pool(max, v, new long[] {k[0], k[1]}, new long[] {st[0], st[1]}, new long[] {p[0], p[2], p[1], p[3]});
        });
    }

    private static Node globalPooling(KerasGraph.Layer l, JsonNode c, List<long[]> in, KerasBody.Builder b) {
        boolean keep = c.path("keepdims").asBoolean(false);
        boolean max = l.type().contains("Max");
        long[] s0 = in.get(0);
        long[] shp = keep ? new long[] {s0[0], 1, 1} : new long[] {s0[0]};
        return new Node(l.name(), l.inputs(), shp, (x, t) -> {
            NDArray a = max ? x.get(0).max(new int[] {3}).max(new int[] {2}) : x.get(0).getNDArrayInternal().globalAvgPool();
            return keep ? a.reshape(a.getShape().get(0), a.getShape().get(1), 1, 1) : a;
        }, (g, x) -> {
            Value a = g.globalPool(max, x.get(0));
            return keep ? a : g.flatten(a);
        });
    }

    private static Node reshape(KerasGraph.Layer l, JsonNode c, List<long[]> in, KerasBody.Builder b) {
        JsonNode ts = c.path("target_shape");
        long[] target = new long[ts.size()];
        long known = 1;
        int unknown = -1;
        for (int i = 0; i < target.length; i++) {
            target[i] = ts.get(i).asLong();
            if (target[i] == -1) {
                unknown = i;
            } else {
                known *= target[i];
            }
        }
        if (unknown >= 0) {
            target[unknown] = KerasShapes.numel(in.get(0)) / known;
        }
        long[] shp = target.length == 3 ? new long[] {target[2], target[0], target[1]} : target;
        return new Node(l.name(), l.inputs(), shp, (x, t) -> {
            NDArray a = KerasShapes.toKerasOrder(x.get(0));
            long[] full = new long[target.length + 1];
            full[0] = a.getShape().get(0);
            System.arraycopy(target, 0, full, 1, target.length);
            a = a.reshape(full);
            return full.length == 4 ? a.transpose(0, 3, 1, 2) : a;
        }, (g, x) -> {
            Value a = KerasShapes.toKerasOrder(g, x.get(0));
            a = g.reshapeBatch(a, target);
            return target.length == 3 ? g.transpose(a, 0, 3, 1, 2) : a;
        });
    }

    private static Node flatten(KerasGraph.Layer l, JsonNode c, List<long[]> in, KerasBody.Builder b) {
        long total = KerasShapes.numel(in.get(0));
        return new Node(l.name(), l.inputs(), new long[] {total}, (x, t) -> {
            NDArray a = KerasShapes.toKerasOrder(x.get(0));
            return a.reshape(a.getShape().get(0), total);
        }, (g, x) -> g.flatten(KerasShapes.toKerasOrder(g, x.get(0))));
    }

    private static Node dense(KerasGraph.Layer l, JsonNode c, List<long[]> in, KerasBody.Builder b) {
        String n = l.name();
        long[] s0 = in.get(0);
        if (s0.length != 1) {
            throw new IllegalArgumentException("layer '" + n + "': Dense on a " + s0.length + "-d input is not supported; add Flatten");
        }
        int units = c.path("units").asInt(c.path("output_dim").asInt());
        boolean bias = c.path("use_bias").asBoolean(true);
        Linear lin = b.add(n, b.layers().linear((int) s0[0], units, bias));
        b.name(n + "/kernel", lin, "weight");
        if (bias) {
            b.name(n + "/bias", lin, "bias");
        }
        UnaryOperator<NDArray> f = ACTIVATIONS.get(c.path("activation").asText("linear"));
        var fo = ONNX_ACTIVATIONS.get(c.path("activation").asText("linear"));
        return new Node(n, l.inputs(), new long[] {units}, (x, t) -> f.apply(lin.apply(x.get(0), t)), (g, x) -> fo.apply(g, lin.onnx(g, x.get(0))));
    }

    private static Node concatenate(KerasGraph.Layer l, JsonNode c, List<long[]> in, KerasBody.Builder b) {
        long[] s0 = in.get(0);
        int rank = s0.length + 1;
        int axis = c.path("axis").asInt(-1);
        int kerasAxis = axis < 0 ? rank + axis : axis;
        int ours = rank == 4 ? new int[] {0, 2, 3, 1}[kerasAxis] : kerasAxis;
        long[] shp = s0.clone();
        for (int i = 1; i < in.size(); i++) {
            shp[ours - 1] += in.get(i)[ours - 1];
        }
        return new Node(l.name(), l.inputs(), shp, (x, t) -> NDArrays.concat(new NDList(x), ours), (g, x) -> g.concat(ours, x));
    }
}
