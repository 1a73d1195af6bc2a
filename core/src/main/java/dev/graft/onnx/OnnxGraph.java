package dev.graft.onnx;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * An ONNX graph being built by the layers of a network, each emitting its own nodes (opset 17, float32): values
 * carry their shapes (the batch dimension is -1, written as the symbolic "N"), so a layer knows its input's size
 * where its nodes depend on it (TensorFlow's 'same' padding, reshapes). Nodes and weights are named after the
 * layer that emitted them ({@code layer1.0.conv1/Conv}, {@code layer1.0.conv1.weight}).
 */
public final class OnnxGraph {
    /** Opset 17: LayerNormalization is a standard op, and Debian's onnx 1.12 checker knows it. */
    public static final int OPSET = 17;
    /** The IR version that goes with opset 17 (onnx 1.12). */
    public static final long IR_VERSION = 8;
    static final int FLOAT = 1;
    static final int INT64 = 7;

    /** A value in the graph: its name and shape ({@code -1} for the batch dimension). */
    public record Value(String name, long[] shape) {
        public int rank() {
            return shape.length;
        }

        public long dim(int i) {
            return shape[i < 0 ? shape.length + i : i];
        }
    }

    /** A layer that has no ONNX form; the message names the layer and why. */
    public static final class Unsupported extends IllegalArgumentException {
        public Unsupported(String message) {
            super(message);
        }
    }

    private final List<Proto> nodes = new ArrayList<>();
    private final List<Proto> initializers = new ArrayList<>();
    private final List<Proto> inputs = new ArrayList<>();
    private final List<Proto> outputs = new ArrayList<>();
    private final Map<String, Integer> used = new HashMap<>();
    private final Map<Object, String> paths;
    private final Deque<String> scope = new ArrayDeque<>();
    private final Map<Integer, Value> scalars = new HashMap<>();
    private final Map<List<Long>, Value> intConstants = new HashMap<>();
    private long parameters;

    /** @param paths each layer's name in its network ("layer1.0.conv1"), for node and weight names and messages */
    public OnnxGraph(Map<?, String> paths) {
        this.paths = new IdentityHashMap<>(paths);
    }

    /** Runs {@code emit} with node and weight names under {@code layer}'s name. */
    public <T> T in(Object layer, Supplier<T> emit) {
        String name = paths.get(layer);
        if (name == null) {
            String parent = scope.isEmpty() ? "" : scope.peek() + "/";
            name = parent + layer.getClass().getSimpleName();
        }
        scope.push(name.isEmpty() ? "graph" : name);
        try {
            return emit.get();
        } finally {
            scope.pop();
        }
    }

    /** Runs {@code emit} with node and weight names under {@code name} (a layer without a module of its own). */
    public <T> T in(String name, Supplier<T> emit) {
        scope.push(name);
        try {
            return emit.get();
        } finally {
            scope.pop();
        }
    }

    /** The refusal for a layer that cannot be exported: one line naming it, its type and the reason. */
    public Unsupported unsupported(Object layer, String why) {
        String name = paths.get(layer);
        String where = name != null ? "'" + (name.isEmpty() ? "(the network)" : name) + "'" : "in '" + (scope.isEmpty() ? "" : scope.peek()) + "'";
        return new Unsupported("layer " + where + " (" + layer.getClass().getSimpleName() + ") cannot be exported to ONNX: " + why);
    }

    private String unique(String base) {
        int n = used.merge(base, 1, Integer::sum);
        return n == 1 ? base : base + "_" + n;
    }

    private String here() {
        return scope.isEmpty() ? "graph" : scope.peek();
    }

    // ---- graph inputs, outputs and constants ----

    /** A float32 graph input; a {@code -1} dimension is the symbolic batch size "N". */
    public Value input(String name, long... shape) {
        inputs.add(OnnxProtos.valueInfo(name, shape));
        used.merge(name, 1, Integer::sum);
        return new Value(name, shape.clone());
    }

    /** Declares {@code v} a graph output named {@code name}. */
    public void output(Value v, String name) {
        Value out = v;
        if (!v.name().equals(name)) {
            used.merge(name, 1, Integer::sum);
            nodes.add(OnnxProtos.nodeProto("Identity", name, List.of(v.name()), List.of(name), List.of()));
            out = new Value(name, v.shape());
        }
        outputs.add(OnnxProtos.valueInfo(out.name(), out.shape()));
    }

    /** A float32 weight of the current layer, named after it ({@code <layer>.<suffix>}). */
    public Value weight(String suffix, float[] data, long... dims) {
        if (Arrays.stream(dims).reduce(1, (a, b) -> a * b) != data.length) {
            throw new IllegalArgumentException(here() + "." + suffix + ": " + data.length + " values for shape " + Arrays.toString(dims));
        }
        String name = unique(here() + "." + suffix);
        initializers.add(OnnxProtos.tensor(name, dims).varint(2, FLOAT).rawFloats(9, data));
        parameters += data.length;
        return new Value(name, dims.clone());
    }

    /** A float32 scalar constant, shared by every use of the same value. */
    public Value scalar(float v) {
        return scalars.computeIfAbsent(Float.floatToIntBits(v), k -> {
            String name = unique("const_" + (v == (long) v ? Long.toString((long) v) : Float.toString(v)).replace('-', 'm').replace('.', 'p'));
            initializers.add(OnnxProtos.tensor(name).varint(2, FLOAT).rawFloats(9, new float[] {v}));
            return new Value(name, new long[0]);
        });
    }

    /** A 1-d int64 constant (shapes, axes, pads), shared by every use of the same values. */
    public Value ints(long... v) {
        List<Long> key = new ArrayList<>();
        for (long x : v) {
            key.add(x);
        }
        return intConstants.computeIfAbsent(key, k -> {
            String name = unique("ints_" + intConstants.size());
            Proto t = OnnxProtos.tensor(name, v.length).varint(2, INT64);
            for (long x : v) {
                t.varint(7, x);
            }
            initializers.add(t);
            return new Value(name, new long[] {v.length});
        });
    }

    public long parameterCount() {
        return parameters;
    }

    // ---- nodes ----

    /** One node of the current layer with one output of the given shape. */
    public Value node(String op, long[] shape, List<Value> in, OnnxAttr... attrs) {
        String name = unique(here() + "/" + op);
        List<String> ins = new ArrayList<>();
        for (Value v : in) {
            ins.add(v == null ? "" : v.name());
        }
        nodes.add(OnnxProtos.nodeProto(op, name, ins, List.of(name), List.of(attrs)));
        return new Value(name, shape.clone());
    }

    public Value node(String op, long[] shape, Value... in) {
        return node(op, shape, Arrays.asList(in));
    }

    // ---- operators, with their output shapes ----

    /**
     * Conv: weight (out, in/groups, kh, kw), optional bias; {@code pads} top, left, bottom, right (asymmetric
     * allowed: TensorFlow's 'same').
     */
    public Value conv(Value x, float[] w, long[] wShape, float[] b, long[] strides, long[] pads, long[] dilations, long groups) {
        Value wv = weight("weight", w, wShape);
        Value bv = b == null ? null : weight("bias", b, wShape[0]);
        long[] s = {x.dim(0), wShape[0],
            (x.dim(2) + pads[0] + pads[2] - dilations[0] * (wShape[2] - 1) - 1) / strides[0] + 1,
            (x.dim(3) + pads[1] + pads[3] - dilations[1] * (wShape[3] - 1) - 1) / strides[1] + 1};
        List<Value> in = bv == null ? List.of(x, wv) : List.of(x, wv, bv);
        return node("Conv", s, in, OnnxAttr.of("kernel_shape", new long[] {wShape[2], wShape[3]}), OnnxAttr.of("strides", strides),
                OnnxAttr.of("pads", pads), OnnxAttr.of("dilations", dilations), OnnxAttr.of("group", groups));
    }

    /** x W^T + b over the last dimension, W (out, in) row-major: Gemm for a matrix, MatMul + Add otherwise. */
    public Value linear(Value x, float[] w, int out, int in, float[] b) {
        long[] s = x.shape().clone();
        s[s.length - 1] = out;
        if (x.rank() == 2) {
            Value wv = weight("weight", w, out, in);
            List<Value> ins = b == null ? List.of(x, wv) : List.of(x, wv, weight("bias", b, out));
            return node("Gemm", s, ins, OnnxAttr.of("transB", 1L));
        }
        float[] wt = new float[w.length];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                wt[i * out + o] = w[o * in + i];
            }
        }
        Value y = node("MatMul", s, x, weight("weight_t", wt, in, out));
        return b == null ? y : add(y, weight("bias", b, out));
    }

    public Value unary(String op, Value x, OnnxAttr... attrs) {
        return node(op, x.shape(), List.of(x), attrs);
    }

    public Value add(Value a, Value b) {
        return node("Add", OnnxProtos.broadcast(a.shape(), b.shape()), a, b);
    }

    public Value sub(Value a, Value b) {
        return node("Sub", OnnxProtos.broadcast(a.shape(), b.shape()), a, b);
    }

    public Value mul(Value a, Value b) {
        return node("Mul", OnnxProtos.broadcast(a.shape(), b.shape()), a, b);
    }

    public Value div(Value a, Value b) {
        return node("Div", OnnxProtos.broadcast(a.shape(), b.shape()), a, b);
    }

    /** min(max(x, lo), hi). */
    public Value clip(Value x, float lo, float hi) {
        return node("Clip", x.shape(), x, scalar(lo), scalar(hi));
    }

    /** MaxPool or AveragePool (floor mode); {@code pads} top, left, bottom, right; averages exclude padding. */
    public Value pool(boolean max, Value x, long[] kernel, long[] strides, long[] pads) {
        long[] s = {x.dim(0), x.dim(1), (x.dim(2) + pads[0] + pads[2] - kernel[0]) / strides[0] + 1,
            (x.dim(3) + pads[1] + pads[3] - kernel[1]) / strides[1] + 1};
        if (max) {
            return node("MaxPool", s, List.of(x), OnnxAttr.of("kernel_shape", kernel), OnnxAttr.of("strides", strides), OnnxAttr.of("pads", pads));
        }
        return node("AveragePool", s, List.of(x), OnnxAttr.of("kernel_shape", kernel), OnnxAttr.of("strides", strides), OnnxAttr.of("pads", pads),
                OnnxAttr.of("count_include_pad", 0L));
    }

    /** GlobalAveragePool or GlobalMaxPool: (N, C, H, W) to (N, C, 1, 1). */
    public Value globalPool(boolean max, Value x) {
        return node(max ? "GlobalMaxPool" : "GlobalAveragePool", new long[] {x.dim(0), x.dim(1), 1, 1}, x);
    }

    /** Flatten from axis 1: (N, ...) to (N, product). */
    public Value flatten(Value x) {
        long p = 1;
        for (int i = 1; i < x.rank(); i++) {
            p *= x.dim(i);
        }
        return node("Flatten", new long[] {x.dim(0), p}, List.of(x), OnnxAttr.of("axis", 1L));
    }

    /** Reshape keeping the batch: {@code rest} are the dimensions after it (one may be -1). */
    public Value reshapeBatch(Value x, long... rest) {
        long total = 1;
        for (int i = 1; i < x.rank(); i++) {
            total *= x.dim(i);
        }
        long[] s = new long[rest.length + 1];
        long[] target = new long[rest.length + 1];
        s[0] = x.dim(0);
        target[0] = 0; // copy the (symbolic) batch dimension
        long known = 1;
        int unknown = -1;
        for (int i = 0; i < rest.length; i++) {
            s[i + 1] = rest[i];
            target[i + 1] = rest[i];
            if (rest[i] == -1) {
                unknown = i + 1;
            } else {
                known *= rest[i];
            }
        }
        if (unknown >= 0) {
            s[unknown] = total / known;
        }
        return node("Reshape", s, x, ints(target));
    }

    public Value transpose(Value x, long... perm) {
        long[] s = new long[perm.length];
        for (int i = 0; i < perm.length; i++) {
            s[i] = x.dim((int) perm[i]);
        }
        return node("Transpose", s, List.of(x), OnnxAttr.of("perm", perm));
    }

    public Value concat(int axis, List<Value> in) {
        long[] s = in.get(0).shape().clone();
        int a = axis < 0 ? s.length + axis : axis;
        for (int i = 1; i < in.size(); i++) {
            s[a] += in.get(i).dim(a);
        }
        return node("Concat", s, in, OnnxAttr.of("axis", (long) axis));
    }

    /** LayerNormalization over the last dimension. */
    public Value layerNorm(Value x, float[] scale, float[] bias, float eps) {
        long c = x.dim(-1);
        return node("LayerNormalization", x.shape(), List.of(x, weight("weight", scale, c), weight("bias", bias, c)),
                OnnxAttr.of("axis", -1L), OnnxAttr.of("epsilon", eps));
    }

    public Value softmax(Value x, int axis) {
        return unary("Softmax", x, OnnxAttr.of("axis", (long) axis));
    }

    /** x[..., index, ...] along {@code axis}, that axis removed. */
    public Value select(Value x, int axis, long index) {
        long[] s = new long[x.rank() - 1];
        for (int i = 0, j = 0; i < x.rank(); i++) {
            if (i != axis) {
                s[j++] = x.dim(i);
            }
        }
        Value idx = scalarIndex(index);
        return node("Gather", s, List.of(x, idx), OnnxAttr.of("axis", (long) axis));
    }

    private final Map<Long, Value> indices = new HashMap<>();

    private Value scalarIndex(long index) {
        return indices.computeIfAbsent(index, k -> {
            String name = unique("index_" + index);
            initializers.add(OnnxProtos.tensor(name).varint(2, INT64).varint(7, index));
            return new Value(name, new long[0]);
        });
    }

    /** Zero (or {@code value}) padding of the last two dimensions: top, left, bottom, right. */
    public Value pad(Value x, long[] pads, float value) {
        long[] s = x.shape().clone();
        s[2] += pads[0] + pads[2];
        s[3] += pads[1] + pads[3];
        long[] all = {0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]};
        return node("Pad", s, List.of(x, ints(all), scalar(value)), OnnxAttr.of("mode", "constant"));
    }

    /** A constant with a batch dimension of 1 repeated to {@code like}'s batch size. */
    public Value expandToBatch(Value constant, Value like) {
        Value shape = node("Shape", new long[] {like.rank()}, like);
        Value batch = node("Slice", new long[] {1}, shape, ints(0), ints(1));
        long[] rest = Arrays.copyOfRange(constant.shape(), 1, constant.rank());
        Value target = concat(0, List.of(batch, ints(rest)));
        long[] s = constant.shape().clone();
        s[0] = like.dim(0);
        return node("Expand", s, constant, target);
    }

    // ---- the model ----

    /** What a ModelProto says besides its graph: the graph's name, graft's version, a description, metadata_props. */
    public record ModelInfo(String graphName, String producerVersion, String doc, Map<String, String> metadata) {
    }

    /** The whole ModelProto: this graph, opset 17, the producer, and the metadata (in order). */
    public void write(OutputStream out, ModelInfo info) throws IOException {
        model(info).write(out);
    }

    /** The whole ModelProto as bytes (under protobuf's 2 GB). */
    public byte[] toBytes(ModelInfo info) {
        Proto m = model(info);
        if (m.size() > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("the ONNX model is " + m.size() + " bytes, over protobuf's 2 GB");
        }
        ByteArrayOutputStream buf = new ByteArrayOutputStream((int) m.size());
        try {
            m.write(buf);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return buf.toByteArray();
    }

    private Proto model(ModelInfo info) {
        return OnnxProtos.model(info, nodes, initializers, inputs, outputs);
    }
}
