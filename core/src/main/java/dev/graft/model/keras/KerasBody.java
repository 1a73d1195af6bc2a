package dev.graft.model.keras;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import dev.graft.model.nn.Activation;
import dev.graft.model.nn.BatchNorm2d;
import dev.graft.model.nn.Compute;
import dev.graft.model.nn.Conv2d;
import dev.graft.model.nn.FeatureMap;
import dev.graft.model.nn.Layers;
import dev.graft.model.nn.Module;
import dev.graft.model.nn.Ops;
import dev.graft.model.nn.Precision;
import dev.graft.onnx.OnnxGraph;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A Keras graph up to the cut, executed node by node in file (topological) order, in NCHW. */
public final class KerasBody extends Module implements FeatureMap {
    private final List<KerasLayers.Node> nodes = new ArrayList<>();
    private final Map<String, Parameter> names = new LinkedHashMap<>();
    private final Map<String, Integer> lastUse = new HashMap<>();
    private final String output;
    private final int featureDim;
    /** A convolution with TensorFlow's 'same' padding done before it (stride > 1 or an even kernel), and its activation. */
    record PaddedConv(Conv2d conv, int[] kernel, int[] stride, java.util.function.UnaryOperator<NDArray> activation) {
    }

    /**
     * For inference: ReLU6 nodes (by index) whose only reader is such a convolution (index): when that padding is
     * one zero row and column at the bottom and right, as for stride 2 on even sizes, the ReLU6 writes straight into
     * the padded buffer and the convolution reads it as is (one pass instead of a pass and a copy).
     */
    private final Map<Integer, Integer> reluIntoPaddedConv = new HashMap<>();
    private final Map<Integer, PaddedConv> paddedConvs = new HashMap<>();
    /**
     * ReLU6 nodes whose input nothing else reads: inference overwrites it. Training does not: under autograd libtorch
     * clones the input of an in-place ReLU6 first (its gradient reads the input), a copy and a pass more than writing a
     * new tensor, for as much memory kept for backward (MobileNet v1 training: 40 -> 18 ms per batch of 32).
     */
    private final Set<Integer> reluInPlace = new HashSet<>();
    /** The last node with a spatial output that every later node depends on only through it (Grad-CAM's map); -1: none. */
    private final int mapNode;
    /**
     * The padded convolution that alone reads the network's input (a stride-2 'same' stem), or -1. Where it pads one
     * row and column at the bottom and right and the input goes channels-last, it takes the NCHW batch as it is and
     * copies it into the padded channels-last buffer in one pass ({@link #input}), instead of a copy into channels-last
     * order, a fill and a second, padded copy (MobileNet v1 at batch 64: 7.4 -> 3.9 ms per batch).
     */
    private final int stemConv;
    private final Compute compute;

    /** What the layer factories register while the body is built. */
    final class Builder {
        private final Layers layers;
        private final Map<String, Conv2d> linearConvs = new HashMap<>();
        private final Map<String, BatchNorm2d> batchNorms = new HashMap<>();
        private final Set<String> relu6 = new HashSet<>();
        private final Map<String, PaddedConv> paddedConvs = new HashMap<>();

        Builder(Layers layers) {
            this.layers = layers;
        }

        Layers layers() {
            return layers;
        }

        <M extends Module> M add(String name, M m) {
            return KerasBody.this.add(name, m);
        }

        /** Gives a layer's parameter its Keras weight name ("conv1/kernel"). */
        void name(String kerasName, Module layer, String param) {
            names.put(kerasName, layer.getParameters().get(param));
        }

        void linearConv(String name, Conv2d conv) {
            linearConvs.put(name, conv);
        }

        void batchNorm(String name, BatchNorm2d bn) {
            batchNorms.put(name, bn);
        }

        void relu6(String name) {
            relu6.add(name);
        }

        void samePadConv(String name, PaddedConv conv) {
            paddedConvs.put(name, conv);
        }
    }

    public KerasBody(KerasGraph g, Layers layers) {
        Builder b = new Builder(layers);
        Map<String, KerasGraph.Layer> byName = new HashMap<>();
        g.layers().forEach(l -> byName.put(l.name(), l));
        // keep only the layers the cut depends on
        Set<String> needed = new HashSet<>();
        List<String> stack = new ArrayList<>(List.of(g.cut()));
        while (!stack.isEmpty()) {
            String n = stack.remove(stack.size() - 1);
            if (needed.add(n)) {
                stack.addAll(byName.get(n).inputs());
            }
        }
        Map<String, long[]> shapes = new HashMap<>();
        for (KerasGraph.Layer l : g.layers()) {
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
            KerasLayers.Node node = KerasLayers.FACTORIES.get(l.type()).make(l, l.config(), in, b);
            shapes.put(l.name(), node.shape());
            nodes.add(node);
        }
        output = g.cut();
        for (int k = 0; k < nodes.size(); k++) {
            for (String i : nodes.get(k).inputs()) {
                lastUse.put(i, k);
            }
        }
        // a BatchNorm that alone reads a linear convolution folds into it for inference
        Map<String, Integer> readers = new HashMap<>();
        nodes.forEach(node -> node.inputs().forEach(i -> readers.merge(i, 1, Integer::sum)));
        for (KerasLayers.Node node : nodes) {
            BatchNorm2d bn = b.batchNorms.get(node.name());
            if (bn != null && node.inputs().size() == 1) {
                String i = node.inputs().get(0);
                Conv2d conv = b.linearConvs.get(i);
                if (conv != null && readers.get(i) == 1 && !i.equals(output)) {
                    layers.compute().pairForFolding(conv, bn);
                }
            }
        }
        featureDim = (int) Arrays.stream(shapes.get(output)).reduce(1, (x, y) -> x * y);
        mapNode = lastFeatureMap(shapes);
        Map<String, Integer> index = new HashMap<>();
        for (int k = 0; k < nodes.size(); k++) {
            index.put(nodes.get(k).name(), k);
        }
        for (int k = 0; k < nodes.size(); k++) {
            KerasLayers.Node node = nodes.get(k);
            PaddedConv pc = b.paddedConvs.get(node.name());
            if (pc != null) {
                paddedConvs.put(k, pc);
            }
            if (!b.relu6.contains(node.name()) || node.inputs().size() != 1 || node.name().equals(output) || k == mapNode) {
                continue;
            }
            String in = node.inputs().get(0);
            if (readers.get(in) == 1 && index.containsKey(in) && !in.equals(output) && index.get(in) != mapNode) {
                reluInPlace.add(k);
            }
            if (readers.getOrDefault(node.name(), 0) == 1) {
                for (int j = k + 1; j < nodes.size(); j++) {
                    if (nodes.get(j).inputs().equals(List.of(node.name()))) {
                        if (b.paddedConvs.containsKey(nodes.get(j).name())) {
                            reluIntoPaddedConv.put(k, j);
                        }
                        break; // its one reader
                    }
                }
            }
        }
        int stem = -1;
        for (int k = 0; k < nodes.size() && stem < 0; k++) {
            List<String> in = nodes.get(k).inputs();
            if (paddedConvs.containsKey(k) && in.size() == 1 && index.containsKey(in.get(0))
                    && nodes.get(index.get(in.get(0))).inputs().isEmpty() && readers.get(in.get(0)) == 1) {
                stem = k;
            }
        }
        stemConv = stem;
        compute = layers.compute();
    }

    /** The NCHW batch as it is where the stem convolution pads it into channels-last order itself, else as {@link Compute#input}. */
    @Override
    public NDArray input(Compute c, NDArray images, boolean training) {
        return c == compute && padsStemInOneCopy(images, training) ? images : super.input(c, images, training);
    }

    private boolean padsStemInOneCopy(NDArray x, boolean training) {
        return stemConv >= 0 && compute.channelsLast(training) && compute.precision() != Precision.BF16 && !x.hasGradient()
                && padsBottomRightByOne(x, paddedConvs.get(stemConv));
    }

    private int lastFeatureMap(Map<String, long[]> shapes) {
        Map<String, Integer> index = new HashMap<>();
        for (int k = 0; k < nodes.size(); k++) {
            index.put(nodes.get(k).name(), k);
        }
        for (int k = nodes.size() - 1; k >= 0; k--) {
            long[] shape = shapes.get(nodes.get(k).name());
            // (C, H, W) with more than one position: after global pooling Keras reshapes to (C, 1, 1)
            if (shape.length != 3 || shape[1] * shape[2] <= 1) {
                continue;
            }
            boolean cut = true;
            for (int j = k + 1; j < nodes.size() && cut; j++) {
                for (String i : nodes.get(j).inputs()) {
                    Integer at = index.get(i);
                    cut &= at != null && at >= k;
                }
            }
            if (cut) {
                return k;
            }
        }
        return -1;
    }

    /** Parameters by Keras weight name ("conv_dw_1/depthwise_kernel", "conv1_bn/moving_mean"). */
    public Map<String, Parameter> names() {
        return names;
    }

    public int featureDim() {
        return featureDim;
    }

    @Override
    public NDArray apply(NDArray input, boolean training) {
        NDArray out = run(0, nodes.size(), input, training, output);
        return Module.free(out, out.reshape(out.getShape().get(0), featureDim));
    }

    /** The graph's nodes in ONNX, in file order, each named after its Keras layer; the cut's output flattened. */
    @Override
    protected OnnxGraph.Value exportOnnx(OnnxGraph g, OnnxGraph.Value input) {
        Map<String, OnnxGraph.Value> values = new HashMap<>();
        for (KerasLayers.Node node : nodes) {
            List<OnnxGraph.Value> in = new ArrayList<>();
            if (node.inputs().isEmpty()) {
                in.add(input);
            } else {
                node.inputs().forEach(i -> in.add(values.get(i)));
            }
            values.put(node.name(), g.in(node.name(), () -> node.onnx().emit(g, in)));
        }
        OnnxGraph.Value out = values.get(output);
        return out.rank() == 2 ? out : g.flatten(out);
    }

    @Override
    public NDArray featureMap(NDArray input, boolean training) {
        if (mapNode < 0) {
            throw new UnsupportedOperationException("this Keras model has no spatial feature map before its output");
        }
        return run(0, mapNode + 1, input, training, nodes.get(mapNode).name());
    }

    @Override
    public NDArray pool(NDArray map, boolean training) {
        NDArray out = run(mapNode + 1, nodes.size(), map, training, output);
        return out == map ? out.reshape(out.getShape().get(0), featureDim) : Module.free(out, out.reshape(out.getShape().get(0), featureDim));
    }

    private static boolean padsBottomRightByOne(NDArray x, PaddedConv pc) {
        if (x.getShape().dimension() != 4) {
            return false;
        }
        long[] p = KerasShapes.tfSamePadding(x.getShape().get(2), x.getShape().get(3), pc.kernel(), pc.stride());
        return p[0] == 0 && p[1] == 1 && p[2] == 0 && p[3] == 1;
    }

    /** A padded convolution and its activation on an input already padded. */
    private static NDArray convolve(PaddedConv pc, NDArray padded, boolean training) {
        NDArray y = pc.conv().apply(padded, training);
        NDArray value = pc.activation().apply(y);
        if (value != y) {
            y.close();
        }
        return value;
    }

    /** Nodes {@code from} to {@code to} (exclusive); {@code input} is the image, or node {@code from - 1}'s value. */
    private NDArray run(int from, int to, NDArray input, boolean training, String result) {
        Map<String, NDArray> values = new HashMap<>();
        // how many live names hold each array (identity ops such as Dropout in evaluation pass theirs on)
        Map<NDArray, Integer> holders = new IdentityHashMap<>();
        if (from > 0) {
            values.put(nodes.get(from - 1).name(), input);
            holders.put(input, 1);
        }
        // inference (no training, no autograd) may overwrite activations nothing else reads
        boolean inPlace = Activation.inPlaceAllowed(training);
        Set<Integer> prePadded = new HashSet<>();
        for (int k = from; k < to; k++) {
            KerasLayers.Node node = nodes.get(k);
            List<NDArray> in = new ArrayList<>();
            if (node.inputs().isEmpty()) {
                in.add(input);
            } else {
                for (String i : node.inputs()) {
                    in.add(values.get(i));
                }
            }
            NDArray value;
            Integer reader = inPlace ? reluIntoPaddedConv.get(k) : null;
            PaddedConv next = reader == null || reader >= to ? null : paddedConvs.get(reader);
            if (from == 0 && k == stemConv && in.get(0) == input && padsStemInOneCopy(input, training)) {
                // the input (NCHW, or already channels-last) padded into channels-last order in one copy
                NDArray padded = Ops.PAD_CHANNELS_LAST.apply(input);
                value = convolve(paddedConvs.get(k), padded, training);
                padded.close();
            } else if (next != null && holders.getOrDefault(in.get(0), 0) <= 1 && padsBottomRightByOne(in.get(0), next)) {
                value = Ops.RELU6_PAD.apply(in.get(0));
                prePadded.add(reader);
            } else if (prePadded.contains(k)) {
                value = convolve(paddedConvs.get(k), in.get(0), training);
            } else if (inPlace && reluInPlace.contains(k) && in.get(0) != input && holders.getOrDefault(in.get(0), 0) == 1) {
                value = Ops.RELU6_INPLACE.apply(in.get(0));
            } else {
                value = node.op().apply(in, training);
            }
            values.put(node.name(), value);
            holders.merge(value, 1, Integer::sum);
            // Free each activation after its last reader, as PyTorch's refcounting does; DJL would keep all of them
            // to the end of the batch (MobileNet inference at batch 64: 6.6 GB). Autograd keeps its own reference
            // to what backward needs, so this is safe while training too.
            for (String i : node.inputs()) {
                if (lastUse.get(i) == k && !i.equals(result)) {
                    NDArray a = values.remove(i);
                    if (a != null && holders.merge(a, -1, Integer::sum) == 0 && a != input) {
                        holders.remove(a);
                        a.close();
                    }
                }
            }
        }
        return values.get(result);
    }
}
