package dev.graft.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import com.fasterxml.jackson.databind.JsonNode;
import dev.graft.weights.StateDict;
import dev.graft.weights.TensorData;
import dev.graft.weights.WeightsException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * Imports a Keras model from its layer graph (the {@code model_config} of a TF.js layers model.json or of an HDF5
 * file) and runs it in the engine's NCHW layout. Kernels are converted from Keras's HWIO once, at load;
 * TensorFlow's 'same' padding is reproduced exactly, including its extra row/column at the bottom/right when the
 * total is odd. The graph is cut before the classifier: everything up to its input is the body.
 */
public final class KerasGraph {
    static final Set<String> SUPPORTED = Set.of("InputLayer", "Conv2D", "DepthwiseConv2D", "BatchNormalization", "Activation",
            "ReLU", "ZeroPadding2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D",
            "Reshape", "Flatten", "Dropout", "Dense", "Add", "Concatenate");

    /** One layer of the graph as parsed from model_config. */
    record LayerSpec(String name, String type, JsonNode config, List<String> inputs) {
    }

    /** The parsed graph with the classifier located. */
    public record Graph(List<LayerSpec> layers, String output, String classifier, String cut) {
        LayerSpec layer(String name) {
            for (LayerSpec l : layers) {
                if (l.name().equals(name)) {
                    return l;
                }
            }
            throw new IllegalArgumentException("no layer named " + name);
        }
    }

    /** The source model's classifier as a linear map from body features: rows are source classes. */
    public record SourceClassifier(float[] weight, float[] bias, int classes, int features) {
    }

    private KerasGraph() {
    }

    /** Parses a Keras Functional or Sequential model_config and finds the classifier to cut. */
    public static Graph parse(JsonNode modelConfig, String classifier, String source) {
        String cls = modelConfig.path("class_name").asText();
        JsonNode cfg = modelConfig.path("config");
        List<LayerSpec> layers = new ArrayList<>();
        String output;
        if (cls.equals("Sequential")) {
            JsonNode list = cfg.isArray() ? cfg : cfg.path("layers");
            String prev = null;
            for (JsonNode l : list) {
                String type = l.path("class_name").asText();
                JsonNode c = l.path("config");
                String name = c.path("name").asText();
                if (prev == null && !type.equals("InputLayer")) {
                    layers.add(new LayerSpec("input", "InputLayer", c, List.of()));
                    prev = "input";
                }
                layers.add(new LayerSpec(name, type, c, prev == null ? List.of() : List.of(prev)));
                prev = name;
            }
            output = prev;
        } else if (cls.equals("Model") || cls.equals("Functional")) {
            for (JsonNode l : cfg.path("layers")) {
                String name = l.path("name").asText(l.path("config").path("name").asText());
                JsonNode nodes = l.path("inbound_nodes");
                if (nodes.size() > 1) {
                    throw new WeightsException(source, "layer '" + name + "' is shared (called " + nodes.size()
                            + " times); graft imports graphs where each layer is used once");
                }
                List<String> inputs = new ArrayList<>();
                if (nodes.size() == 1) {
                    JsonNode node = nodes.get(0);
                    if (!node.isArray()) {
                        throw new WeightsException(source, "layer '" + name + "' uses a Keras 3 node format that graft does not read; "
                                + "save the model with Keras 2 / tf.keras");
                    }
                    for (JsonNode in : node) {
                        inputs.add(in.get(0).asText());
                    }
                }
                layers.add(new LayerSpec(name, l.path("class_name").asText(), l.path("config"), inputs));
            }
            JsonNode outs = cfg.path("output_layers");
            if (outs.size() != 1) {
                throw new WeightsException(source, "graft imports models with exactly one output, this has " + outs.size());
            }
            output = outs.get(0).get(0).asText();
        } else {
            throw new WeightsException(source, "model class '" + cls + "' is not a Keras Model/Functional/Sequential");
        }
        for (LayerSpec l : layers) {
            if (!SUPPORTED.contains(l.type())) {
                throw new WeightsException(source, "layer '" + l.name() + "' has type " + l.type()
                        + ", which graft cannot import (supported: " + String.join(", ", SUPPORTED.stream().sorted().toList()) + ")");
            }
        }
        Graph g = new Graph(layers, output, null, null);
        String found = classifier != null ? classifier : findClassifier(g, source);
        LayerSpec c = g.layer(found);
        if (c.inputs().size() != 1) {
            throw new WeightsException(source, "classifier '" + found + "' must have exactly one input");
        }
        return new Graph(layers, output, found, c.inputs().get(0));
    }

    /** Walks back from the output through softmax/reshape/flatten/dropout to the last Dense or Conv2D. */
    static String findClassifier(Graph g, String source) {
        String cur = g.output();
        while (true) {
            LayerSpec l = g.layer(cur);
            switch (l.type()) {
                case "Dense", "Conv2D" -> {
                    return cur;
                }
                case "Activation", "Reshape", "Flatten", "Dropout" -> cur = l.inputs().get(0);
                default -> throw new WeightsException(source, "cannot find the classifier layer: walking back from the output met "
                        + l.type() + " '" + l.name() + "'; name it explicitly");
            }
        }
    }

    /** Builds the body (up to the cut) plus a new head of {@code numClasses} outputs. */
    public static Network build(Graph g, int numClasses, Layers layers, String architecture) {
        Body body = new Body(g, layers);
        Map<String, Parameter> names = new LinkedHashMap<>(body.names);
        return new Network(architecture, body, names, body.featureDim, numClasses, "head", layers);
    }

    /** Converts Keras-layout weights (HWIO kernels, Dense (in, out)) to graft's layout, keeping the names. */
    public static StateDict toGraftLayout(Graph g, StateDict raw) {
        StateDict out = new StateDict(raw.source());
        Map<String, String> typeOf = new HashMap<>();
        for (LayerSpec l : g.layers()) {
            typeOf.put(l.name(), l.type());
        }
        for (Map.Entry<String, TensorData> e : raw.tensors().entrySet()) {
            String key = e.getKey();
            int slash = key.lastIndexOf('/');
            String layer = slash < 0 ? key : key.substring(0, slash);
            String param = slash < 0 ? key : key.substring(slash + 1);
            String type = typeOf.getOrDefault(layer, "");
            TensorData t = e.getValue();
            if (type.equals("Conv2D") && param.equals("kernel")) {
                t = t.permute(3, 2, 0, 1); // HWIO -> OIHW
            } else if (type.equals("DepthwiseConv2D") && param.equals("depthwise_kernel")) {
                long[] s = t.shape(); // H W C M -> (C*M) 1 H W
                t = t.permute(2, 3, 0, 1).reshape(s[2] * s[3], 1, s[0], s[1]);
            } else if (type.equals("Dense") && param.equals("kernel")) {
                t = t.permute(1, 0);
            }
            out.put(key, t);
        }
        return out;
    }

    /** The classifier cut off the source model, as rows per source class, from Keras-layout weights. */
    public static SourceClassifier sourceClassifier(Graph g, StateDict raw) {
        LayerSpec c = g.layer(g.classifier());
        TensorData k = raw.require(c.name() + "/kernel");
        long[] s = k.shape();
        TensorData w;
        if (c.type().equals("Dense")) {
            w = k.permute(1, 0);
        } else if (s.length == 4 && s[0] == 1 && s[1] == 1) {
            w = k.reshape(s[2], s[3]).permute(1, 0);
        } else {
            throw new WeightsException(raw.source(), "classifier '" + c.name() + "' is not a Dense or 1x1 convolution");
        }
        long[] ws = w.shape();
        TensorData b = raw.get(c.name() + "/bias");
        float[] bias = b == null ? new float[(int) ws[0]] : b.toFloats();
        return new SourceClassifier(w.toFloats(), bias, (int) ws[0], (int) ws[1]);
    }

    /** Keras's default initialisers for training from scratch (glorot_uniform kernels, BN at identity). */
    public static void initScratch(Network net, long seed) {
        Random rng = new Random(seed);
        for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
            String name = e.getKey();
            NDArray a = e.getValue().getArray();
            long[] shape = a.getShape().getShape();
            float[] v = new float[(int) a.size()];
            if (name.endsWith("kernel") || name.endsWith("depthwise_kernel") || name.equals("head.weight")) {
                double fanIn;
                double fanOut;
                if (shape.length == 4) {
                    double rf = shape[2] * shape[3];
                    fanIn = shape[1] * rf;
                    fanOut = name.endsWith("depthwise_kernel") ? rf : shape[0] * rf;
                } else {
                    fanIn = shape[1];
                    fanOut = shape[0];
                }
                double limit = Math.sqrt(6.0 / (fanIn + fanOut));
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) ((rng.nextDouble() * 2 - 1) * limit);
                }
            } else if (name.endsWith("gamma") || name.endsWith("moving_variance")) {
                Arrays.fill(v, 1f);
            }
            Network.set(e.getValue(), v);
        }
    }

    /** The graph up to the cut, executed in topological (file) order. */
    static final class Body extends Module {
        private final List<Node> nodes = new ArrayList<>();
        final Map<String, Parameter> names = new LinkedHashMap<>();
        final int featureDim;
        private final String output;
        private final Map<String, Integer> lastUse = new HashMap<>();
        // inference folding: linear convs and BatchNorms by node name, and which BatchNorm each conv folds into
        private final Map<String, Conv2d> linearConvs = new HashMap<>();
        private final Map<String, BatchNorm> batchNorms = new HashMap<>();
        private final Map<String, BatchNorm> foldInto = new HashMap<>();
        private final BatchNormFolding folding;

        Body(Graph g, Layers layers) {
            folding = layers.folding();
            Map<String, long[]> shapes = new HashMap<>();
            Map<String, LayerSpec> byName = new HashMap<>();
            g.layers().forEach(l -> byName.put(l.name(), l));
            // keep only the layers the cut point depends on
            Set<String> needed = new java.util.HashSet<>();
            List<String> stack = new ArrayList<>(List.of(g.cut()));
            while (!stack.isEmpty()) {
                String n = stack.remove(stack.size() - 1);
                if (needed.add(n)) {
                    stack.addAll(byName.get(n).inputs());
                }
            }
            for (LayerSpec l : g.layers()) {
                if (!needed.contains(l.name())) {
                    continue;
                }
                List<long[]> in = new ArrayList<>();
                for (String i : l.inputs()) {
                    long[] s = shapes.get(i);
                    if (s == null) {
                        throw new IllegalArgumentException("layer '" + l.name() + "' uses '" + i + "' before it is defined");
                    }
                    in.add(s);
                }
                Node node = makeNode(l, in, layers);
                shapes.put(l.name(), node.shape);
                nodes.add(node);
            }
            output = g.cut();
            for (int k = 0; k < nodes.size(); k++) {
                for (String i : nodes.get(k).inputs()) {
                    lastUse.put(i, k);
                }
            }
            Map<String, Integer> readers = new HashMap<>();
            nodes.forEach(node -> node.inputs().forEach(i -> readers.merge(i, 1, Integer::sum)));
            for (Node node : nodes) {
                BatchNorm bn = batchNorms.get(node.name());
                if (bn != null && node.inputs().size() == 1) {
                    String i = node.inputs().get(0);
                    Conv2d conv = linearConvs.get(i);
                    if (conv != null && readers.get(i) == 1 && !i.equals(output)) {
                        foldInto.put(i, bn);
                        folding.pair(conv, bn);
                    }
                }
            }
            long[] out = shapes.get(output);
            featureDim = (int) Arrays.stream(out).reduce(1, (a, b) -> a * b);
        }

        private Node makeNode(LayerSpec l, List<long[]> in, Layers layers) {
            JsonNode c = l.config();
            String n = l.name();
            long[] s0 = in.isEmpty() ? null : in.get(0);
            switch (l.type()) {
                case "InputLayer" -> {
                    JsonNode shape = c.has("batch_input_shape") ? c.get("batch_input_shape") : c.path("batch_shape");
                    long[] shp = new long[shape.size() - 1];
                    for (int i = 1; i < shape.size(); i++) {
                        shp[i - 1] = shape.get(i).isNull() ? 224 : shape.get(i).asLong();
                    }
                    if (shp.length == 3) {
                        shp = new long[] {shp[2], shp[0], shp[1]};
                    }
                    return new Node(n, l.inputs(), shp, (ps, x, t) -> x.get(0));
                }
                case "Conv2D", "DepthwiseConv2D" -> {
                    boolean depthwise = l.type().equals("DepthwiseConv2D");
                    int[] k = pair(c.path("kernel_size"));
                    int[] st = pair(c.path("strides"), 1);
                    int[] dil = pair(c.path("dilation_rate"), 1);
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
                    Conv2d conv = add(n, layers.conv(inC, outC, k[0], k[1], st[0], st[1], ph, pw, depthwise ? inC : 1, bias));
                    names.put(n + "/" + (depthwise ? "depthwise_kernel" : "kernel"), conv.getParameters().get("weight"));
                    if (bias) {
                        names.put(n + "/bias", conv.getParameters().get("bias"));
                    }
                    boolean dynamicPad = same && !staticPad;
                    String act = c.path("activation").asText("linear");
                    long[] shp = {outC, outSize(s0[1], k[0], st[0], same), outSize(s0[2], k[1], st[1], same)};
                    if (act.equals("linear")) {
                        linearConvs.put(n, conv);
                    }
                    return new Node(n, l.inputs(), shp, (ps, x, t) -> {
                        NDArray a = x.get(0);
                        if (dynamicPad) {
                            a = tfSamePad(a, k, st, 0);
                        }
                        NDArray y = folding.conv(ps, conv, foldInto.get(n), a, t);
                        if (a != x.get(0)) {
                            a.close();
                        }
                        return activation(y, act, n);
                    });
                }
                case "BatchNormalization" -> {
                    int axis = c.path("axis").isArray() ? c.path("axis").get(0).asInt() : c.path("axis").asInt(-1);
                    if (axis != -1 && axis != s0.length) {
                        throw new IllegalArgumentException("layer '" + n + "': BatchNormalization over axis " + axis + " is not supported");
                    }
                    boolean center = c.path("center").asBoolean(true);
                    boolean scale = c.path("scale").asBoolean(true);
                    float eps = (float) c.path("epsilon").asDouble(1e-3);
                    float momentum = (float) (1 - c.path("momentum").asDouble(0.99)); // Keras's 0.99 is torch's 0.01
                    BatchNorm bn = add(n, layers.batchNorm((int) s0[0], eps, momentum, center, scale));
                    if (scale) {
                        names.put(n + "/gamma", bn.getParameters().get("gamma"));
                    }
                    if (center) {
                        names.put(n + "/beta", bn.getParameters().get("beta"));
                    }
                    names.put(n + "/moving_mean", bn.getParameters().get("runningMean"));
                    names.put(n + "/moving_variance", bn.getParameters().get("runningVar"));
                    batchNorms.put(n, bn);
                    return new Node(n, l.inputs(), s0, (ps, x, t) -> folding.batchNorm(ps, bn, x.get(0), t));
                }
                case "Activation" -> {
                    String act = c.path("activation").asText();
                    activationCheck(act, n);
                    return new Node(n, l.inputs(), s0, (ps, x, t) -> activation(x.get(0), act, n));
                }
                case "ReLU" -> {
                    double max = c.path("max_value").isNumber() ? c.path("max_value").asDouble() : Double.NaN;
                    double slope = c.path("negative_slope").asDouble(0);
                    double threshold = c.path("threshold").asDouble(0);
                    if (threshold != 0) {
                        throw new IllegalArgumentException("layer '" + n + "': ReLU threshold is not supported");
                    }
                    if (slope == 0 && max == 6) {
                        return new Node(n, l.inputs(), s0, (ps, x, t) -> Relu6.apply(x.get(0)));
                    }
                    return new Node(n, l.inputs(), s0, (ps, x, t) -> {
                        NDArray a = slope == 0 ? Activation.relu(x.get(0)) : Activation.leakyRelu(x.get(0), (float) slope);
                        return Double.isNaN(max) ? a : a.minimum(max);
                    });
                }
                case "ZeroPadding2D" -> {
                    int[] p = padding(c.path("padding"));
                    long[] shp = {s0[0], s0[1] + p[0] + p[1], s0[2] + p[2] + p[3]};
                    return new Node(n, l.inputs(), shp, (ps, x, t) -> x.get(0).pad(new Shape(p[2], p[3], p[0], p[1]), 0));
                }
                case "MaxPooling2D", "AveragePooling2D" -> {
                    boolean max = l.type().startsWith("Max");
                    int[] k = pair(c.path("pool_size"), 2);
                    int[] st = c.path("strides").isNull() || c.path("strides").isMissingNode() ? k : pair(c.path("strides"));
                    boolean same = c.path("padding").asText("valid").equals("same");
                    long[] shp = {s0[0], outSize(s0[1], k[0], st[0], same), outSize(s0[2], k[1], st[1], same)};
                    Shape ks = new Shape(k[0], k[1]);
                    Shape ss = new Shape(st[0], st[1]);
                    Shape zero = new Shape(0, 0);
                    return new Node(n, l.inputs(), shp, (ps, x, t) -> {
                        NDArray a = x.get(0);
                        if (max) {
                            if (same) {
                                a = tfSamePad(a, k, st, Float.NEGATIVE_INFINITY);
                            }
                            return a.getNDArrayInternal().maxPool(ks, ss, zero, false);
                        }
                        if (!same) {
                            return a.getNDArrayInternal().avgPool(ks, ss, zero, false, true);
                        }
                        // TensorFlow averages over the window's valid pixels only
                        NDArray sum = tfSamePad(a, k, st, 0).getNDArrayInternal().avgPool(ks, ss, zero, false, true);
                        NDArray ones = a.onesLike().get(":, :1");
                        NDArray count = tfSamePad(ones, k, st, 0).getNDArrayInternal().avgPool(ks, ss, zero, false, true);
                        return sum.div(count);
                    });
                }
                case "GlobalAveragePooling2D", "GlobalMaxPooling2D" -> {
                    boolean keep = c.path("keepdims").asBoolean(false);
                    boolean max = l.type().contains("Max");
                    long[] shp = keep ? new long[] {s0[0], 1, 1} : new long[] {s0[0]};
                    return new Node(n, l.inputs(), shp, (ps, x, t) -> {
                        NDArray a = max ? x.get(0).max(new int[] {3}).max(new int[] {2})
                                : x.get(0).getNDArrayInternal().globalAvgPool();
                        return keep ? a.reshape(a.getShape().get(0), a.getShape().get(1), 1, 1) : a;
                    });
                }
                case "Reshape" -> {
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
                    long total = Arrays.stream(s0).reduce(1, (a, b) -> a * b);
                    if (unknown >= 0) {
                        target[unknown] = total / known;
                    }
                    long[] shp = target.length == 3 ? new long[] {target[2], target[0], target[1]} : target;
                    return new Node(n, l.inputs(), shp, (ps, x, t) -> {
                        NDArray a = toKerasOrder(x.get(0));
                        long[] full = new long[target.length + 1];
                        full[0] = a.getShape().get(0);
                        System.arraycopy(target, 0, full, 1, target.length);
                        a = a.reshape(full);
                        return full.length == 4 ? a.transpose(0, 3, 1, 2) : a;
                    });
                }
                case "Flatten" -> {
                    long total = Arrays.stream(s0).reduce(1, (a, b) -> a * b);
                    return new Node(n, l.inputs(), new long[] {total}, (ps, x, t) -> {
                        NDArray a = toKerasOrder(x.get(0));
                        return a.reshape(a.getShape().get(0), total);
                    });
                }
                case "Dropout" -> {
                    float rate = (float) c.path("rate").asDouble(0);
                    return new Node(n, l.inputs(), s0, (ps, x, t) -> t && rate > 0
                            ? x.get(0).getNDArrayInternal().dropout(x.get(0), rate, true).singletonOrThrow() : x.get(0));
                }
                case "Dense" -> {
                    if (s0.length != 1) {
                        throw new IllegalArgumentException("layer '" + n + "': Dense on a " + s0.length + "-d input is not supported; add Flatten");
                    }
                    int units = c.path("units").asInt(c.path("output_dim").asInt());
                    boolean bias = c.path("use_bias").asBoolean(true);
                    Linear lin = add(n, layers.linear((int) s0[0], units, bias));
                    names.put(n + "/kernel", lin.getParameters().get("weight"));
                    if (bias) {
                        names.put(n + "/bias", lin.getParameters().get("bias"));
                    }
                    String act = c.path("activation").asText("linear");
                    activationCheck(act, n);
                    return new Node(n, l.inputs(), new long[] {units},
                            (ps, x, t) -> activation(lin.forward(ps, new NDList(x.get(0)), t).singletonOrThrow(), act, n));
                }
                case "Add" -> {
                    return new Node(n, l.inputs(), s0, (ps, x, t) -> {
                        NDArray a = x.get(0);
                        for (int i = 1; i < x.size(); i++) {
                            a = a.add(x.get(i));
                        }
                        return a;
                    });
                }
                case "Concatenate" -> {
                    int rank = s0.length + 1;
                    int axis = c.path("axis").asInt(-1);
                    int kerasAxis = axis < 0 ? rank + axis : axis;
                    int ours = rank == 4 ? new int[] {0, 2, 3, 1}[kerasAxis] : kerasAxis;
                    long[] shp = s0.clone();
                    for (int i = 1; i < in.size(); i++) {
                        shp[ours - 1] += in.get(i)[ours - 1];
                    }
                    return new Node(n, l.inputs(), shp, (ps, x, t) -> NDArrays.concat(new NDList(x), ours));
                }
                default -> throw new IllegalArgumentException("layer type " + l.type());
            }
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
            Map<String, NDArray> values = new HashMap<>();
            // how many live names hold each array (identity ops such as Dropout in evaluation pass theirs on)
            Map<NDArray, Integer> holders = new IdentityHashMap<>();
            for (int k = 0; k < nodes.size(); k++) {
                Node node = nodes.get(k);
                List<NDArray> in = new ArrayList<>();
                if (node.inputs.isEmpty()) {
                    in.add(inputs.singletonOrThrow());
                } else {
                    for (String i : node.inputs) {
                        in.add(values.get(i));
                    }
                }
                NDArray result = node.op.apply(ps, in, training);
                values.put(node.name, result);
                holders.merge(result, 1, Integer::sum);
                // Free each activation after its last reader, as PyTorch's refcounting does; DJL would keep all
                // of them to the end of the batch (MobileNet inference at batch 64: 6.6 GB). Autograd keeps its own
                // reference to what backward needs, so this is safe while training too.
                for (String i : node.inputs) {
                    if (lastUse.get(i) == k && !i.equals(output)) {
                        NDArray a = values.remove(i);
                        if (a != null && holders.merge(a, -1, Integer::sum) == 0 && a != inputs.singletonOrThrow()) {
                            holders.remove(a);
                            a.close();
                        }
                    }
                }
            }
            NDArray out = values.get(output);
            return new NDList(out.reshape(out.getShape().get(0), featureDim));
        }
    }

    @FunctionalInterface
    interface Op {
        NDArray apply(ParameterStore ps, List<NDArray> inputs, boolean training);
    }

    record Node(String name, List<String> inputs, long[] shape, Op op) {
    }

    /** NCHW to Keras's NHWC order for 4-d tensors (what Reshape and Flatten index by). */
    static NDArray toKerasOrder(NDArray a) {
        return a.getShape().dimension() == 4 ? a.transpose(0, 2, 3, 1) : a;
    }

    /** TensorFlow 'same' padding: total = max((ceil(n/s)-1)*s + k - n, 0), the odd pixel goes after. */
    static NDArray tfSamePad(NDArray x, int[] k, int[] s, float value) {
        long h = x.getShape().get(2);
        long w = x.getShape().get(3);
        long th = Math.max((ceilDiv(h, s[0]) - 1) * s[0] + k[0] - h, 0);
        long tw = Math.max((ceilDiv(w, s[1]) - 1) * s[1] + k[1] - w, 0);
        if (th == 0 && tw == 0) {
            return x;
        }
        return x.pad(new Shape(tw / 2, tw - tw / 2, th / 2, th - th / 2), value);
    }

    static long outSize(long in, int k, int s, boolean same) {
        return same ? ceilDiv(in, s) : (in - k) / s + 1;
    }

    static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    static void activationCheck(String act, String layer) {
        if (!Set.of("linear", "relu", "relu6", "softmax", "sigmoid", "tanh", "swish", "elu", "softplus").contains(act)) {
            throw new IllegalArgumentException("layer '" + layer + "': activation '" + act + "' is not supported");
        }
    }

    static NDArray activation(NDArray x, String act, String layer) {
        return switch (act) {
            case "linear" -> x;
            case "relu" -> Activation.relu(x);
            case "relu6" -> Relu6.apply(x); // one op with a one-pass backward (as clip: MobileNet training -35%)
            case "softmax" -> x.softmax(1);
            case "sigmoid" -> Activation.sigmoid(x);
            case "tanh" -> Activation.tanh(x);
            case "swish" -> Activation.swish(x, 1f);
            case "softplus" -> Activation.softPlus(x);
            default -> throw new IllegalArgumentException("layer '" + layer + "': activation '" + act + "' is not supported");
        };
    }

    static int[] pair(JsonNode n) {
        return pair(n, -1);
    }

    static int[] pair(JsonNode n, int dflt) {
        if (n.isArray() && n.size() == 2) {
            return new int[] {n.get(0).asInt(), n.get(1).asInt()};
        }
        if (n.isInt()) {
            return new int[] {n.asInt(), n.asInt()};
        }
        if (dflt < 0) {
            throw new IllegalArgumentException("expected a pair of integers, got " + n);
        }
        return new int[] {dflt, dflt};
    }

    /** ZeroPadding2D padding as {top, bottom, left, right}. */
    static int[] padding(JsonNode p) {
        if (p.isInt()) {
            int v = p.asInt();
            return new int[] {v, v, v, v};
        }
        if (p.isArray() && p.size() == 2 && p.get(0).isInt()) {
            return new int[] {p.get(0).asInt(), p.get(0).asInt(), p.get(1).asInt(), p.get(1).asInt()};
        }
        return new int[] {p.get(0).get(0).asInt(), p.get(0).get(1).asInt(), p.get(1).get(0).asInt(), p.get(1).get(1).asInt()};
    }

    /** A short description of the imported graph for logs. */
    public static String summary(Graph g) {
        Map<String, Integer> counts = new java.util.TreeMap<>();
        g.layers().forEach(l -> counts.merge(l.type(), 1, Integer::sum));
        return String.format(Locale.ROOT, "%d layers %s, classifier '%s' cut at '%s'", g.layers().size(), counts, g.classifier(), g.cut());
    }
}
