package dev.graft.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.graft.model.nn.Compute;
import dev.graft.model.nn.Conv2d;
import dev.graft.model.nn.Layers;
import dev.graft.model.nn.Linear;
import dev.graft.model.nn.Module;
import dev.graft.model.nn.Ops;
import dev.graft.model.nn.Params;
import dev.graft.onnx.OnnxGraph;
import dev.graft.weights.StateDict;
import dev.graft.weights.TensorData;
import dev.graft.weights.WeightsException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A classifier as the book builds it: a pretrained body (every layer of the source model but its output layer)
 * followed by a new output layer, the head, with one output per target class.
 */
public final class Network extends Module {
    private final String architecture;
    private final Body body;
    private final Linear head;
    private final String headName;
    private final int numClasses;
    private final Map<String, Parameter> headParams = new LinkedHashMap<>();
    private final NDManager manager;
    private final Compute compute;
    private boolean frozenBody;
    private final boolean pointwise;
    /** Input sizes (height, width) whose 1x1 convolution shapes were checked. */
    private final java.util.Set<List<Long>> pointwiseChecked = java.util.concurrent.ConcurrentHashMap.newKeySet();

    public Network(String architecture, Body body, String headName, int numClasses, Layers layers) {
        this.architecture = architecture;
        this.body = body;
        add("body", body.block());
        this.head = add(headName, layers.linear(body.featureDim(), numClasses, true));
        this.headName = headName;
        this.numClasses = numClasses;
        this.manager = layers.manager();
        this.compute = layers.compute();
        headParams.put(headName + ".weight", head.getParameters().get("weight"));
        headParams.put(headName + ".bias", head.getParameters().get("bias"));
        this.pointwise = contains(body.block(), b -> b instanceof Conv2d c && c.isPointwise());
    }

    /** Logits (float32) for NCHW images. */
    @Override
    public NDArray apply(NDArray images, boolean training) {
        return head(features(images, training), training);
    }

    /**
     * The body's pooled feature vectors (float32). A frozen body always runs in evaluation mode and without
     * gradients; otherwise {@code training} selects batch statistics, dropout and drop-path as in the source.
     */
    public NDArray features(NDArray images, boolean training) {
        boolean trains = training && !frozenBody;
        checkPointwise(images);
        NDArray x = body.block().input(compute, images, trains);
        NDArray f = body.block().apply(x, trains);
        return Ops.toFloat32(f);
    }

    /**
     * The first time the body meets an input size: which of its 1x1 convolution shapes libtorch's kernel computes
     * right on this machine ({@link Conv2d#checkPointwise}; one evaluation forward of one image, with the product, finds
     * them). Where the product is chosen for every 1x1 anyway, nothing to check.
     */
    private void checkPointwise(NDArray images) {
        if (!pointwise || Boolean.TRUE.equals(compute.pointwiseProduct()) || images.getShape().dimension() != 4) {
            return;
        }
        List<Long> size = List.of(images.getShape().get(2), images.getShape().get(3));
        if (pointwiseChecked.contains(size)) {
            return;
        }
        Conv2d.checkPointwise(() -> dev.graft.model.nn.Torch.noGrad(() -> {
            try (NDManager m = images.getManager().newSubManager()) {
                NDArray one = images.get("0:1");
                one.attach(m);
                body.block().apply(body.block().input(compute, one, false), false);
            }
        }));
        pointwiseChecked.add(size);
    }

    /** The new output layer on feature vectors: the source's dropout in training, then the linear map. */
    public NDArray head(NDArray features, boolean training) {
        NDArray x = features;
        if (compute.stochastic(training) && body.dropout() > 0) {
            x = JniUtils.dropout((PtNDArray) features, body.dropout(), true);
        }
        NDArray logits = head.apply(x, training);
        return Ops.toFloat32(logits);
    }

    /** Images (as {@link #apply} takes them) to logits in ONNX: the body, then the head (no dropout: inference). */
    @Override
    protected OnnxGraph.Value exportOnnx(OnnxGraph g, OnnxGraph.Value images) {
        return head.onnx(g, body.block().onnx(g, images));
    }

    /** Every layer by the source framework's name ("layer1.0.conv1", the head's "fc"), for ONNX names and messages. */
    public Map<Object, String> layerNames() {
        Map<Object, String> out = new java.util.IdentityHashMap<>();
        Module.paths(body.block(), "", out);
        out.put(head, headName);
        out.put(this, "");
        return out;
    }

    /** Sets every parameter's accumulated gradient to zero (after a measurement or an explanation that must leave none). */
    public void clearGradients() {
        for (Parameter p : namedParameters().values()) {
            NDArray a = p.getArray();
            if (a.hasGradient()) {
                try (NDArray g = a.getGradient()) {
                    g.muli(0f);
                }
            }
        }
    }

    /** The body's layers (source model minus its classifier). */
    public dev.graft.model.nn.Module bodyLayers() {
        return body.block();
    }

    /** Whether the body normalises with BatchNorm (whose statistics a recipe may train or keep). */
    public boolean hasBatchNorm() {
        return contains(body.block(), b -> b instanceof dev.graft.model.nn.BatchNorm2d);
    }

    /** Whether the body has 1x1 convolutions (whose kernel is checked per shape, see {@link Conv2d#checkPointwise}). */
    public boolean hasPointwise() {
        return pointwise;
    }

    private static boolean contains(ai.djl.nn.Block b, java.util.function.Predicate<ai.djl.nn.Block> what) {
        if (what.test(b)) {
            return true;
        }
        for (ai.djl.util.Pair<String, ai.djl.nn.Block> c : b.getChildren()) {
            if (contains(c.getValue(), what)) {
                return true;
            }
        }
        return false;
    }

    /** Execution settings shared by every layer: precision, memory order, inference folding. */
    public Compute compute() {
        return compute;
    }

    public String architecture() {
        return architecture;
    }

    public int featureDim() {
        return body.featureDim();
    }

    public int numClasses() {
        return numClasses;
    }

    public String headName() {
        return headName;
    }

    public NDManager manager() {
        return manager;
    }

    public Map<String, Parameter> bodyParameters() {
        return body.parameters();
    }

    public Map<String, Parameter> headParameters() {
        return Collections.unmodifiableMap(headParams);
    }

    /** All parameters and buffers by name, body first. */
    public Map<String, Parameter> namedParameters() {
        Map<String, Parameter> all = new LinkedHashMap<>(body.parameters());
        all.putAll(headParams);
        return all;
    }

    /** Freezes (or unfreezes) the body: no gradients, evaluation mode, BatchNorm statistics stay put. */
    public void setFrozenBody(boolean frozen) {
        this.frozenBody = frozen;
        for (Parameter p : body.parameters().values()) {
            if (p.requiresGradient()) {
                p.getArray().setRequiresGradient(!frozen);
            }
        }
    }

    public boolean isFrozenBody() {
        return frozenBody;
    }

    /** Parameters the optimizer updates, by name: the head, and the body unless frozen. */
    public Map<String, Parameter> trainableParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        if (!frozenBody) {
            body.parameters().forEach((k, p) -> {
                if (p.requiresGradient()) {
                    out.put(k, p);
                }
            });
        }
        out.putAll(headParams);
        return out;
    }

    /**
     * Copies a source state_dict into the body. Every body parameter must be present with the same shape; keys
     * of the source's own classifier ({@code ignorePrefixes}) and bookkeeping buffers are not expected here.
     */
    public void loadBody(StateDict sd, List<String> ignorePrefixes) {
        List<String> missing = new ArrayList<>();
        List<String> badShape = new ArrayList<>();
        for (Map.Entry<String, Parameter> e : body.parameters().entrySet()) {
            TensorData t = sd.get(e.getKey());
            if (t == null) {
                missing.add(e.getKey());
                continue;
            }
            long[] want = e.getValue().getArray().getShape().getShape();
            if (!Arrays.equals(want, t.shape())) {
                badShape.add(e.getKey() + " (file " + Arrays.toString(t.shape()) + ", model " + Arrays.toString(want) + ")");
            }
        }
        List<String> unexpected = new ArrayList<>();
        for (String k : sd.names()) {
            if (!body.parameters().containsKey(k) && !k.endsWith("num_batches_tracked")
                    && ignorePrefixes.stream().noneMatch(k::startsWith)) {
                unexpected.add(k);
            }
        }
        if (!missing.isEmpty() || !unexpected.isEmpty() || !badShape.isEmpty()) {
            StringBuilder msg = new StringBuilder("does not fit " + architecture + ":");
            if (!missing.isEmpty()) {
                msg.append("\n  missing keys (").append(missing.size()).append("): ").append(abbreviate(missing));
            }
            if (!unexpected.isEmpty()) {
                msg.append("\n  unexpected keys (").append(unexpected.size()).append("): ").append(abbreviate(unexpected));
            }
            if (!badShape.isEmpty()) {
                msg.append("\n  shape mismatches (").append(badShape.size()).append("): ").append(abbreviate(badShape));
            }
            throw new WeightsException(sd.source(), msg.toString());
        }
        for (Map.Entry<String, Parameter> e : body.parameters().entrySet()) {
            set(e.getValue(), sd.get(e.getKey()).toFloats());
        }
    }

    /** Loads every parameter (body and head), e.g. from a saved bundle or checkpoint. */
    public void loadAll(StateDict sd) {
        loadBody(sd, List.of(headName + "."));
        for (Map.Entry<String, Parameter> e : headParams.entrySet()) {
            TensorData t = sd.require(e.getKey());
            long[] want = e.getValue().getArray().getShape().getShape();
            if (!Arrays.equals(want, t.shape())) {
                throw new WeightsException(sd.source(), "head " + e.getKey() + " has shape "
                        + Arrays.toString(t.shape()) + " but the model needs " + Arrays.toString(want));
            }
            set(e.getValue(), t.toFloats());
        }
    }

    /** The current values of every parameter and buffer as float32 tensors. */
    public StateDict stateDict() {
        StateDict sd = new StateDict(architecture);
        for (Map.Entry<String, Parameter> e : namedParameters().entrySet()) {
            NDArray a = e.getValue().getArray();
            sd.put(e.getKey(), TensorData.ofFloats(a.toFloatArray(), a.getShape().getShape()));
        }
        return sd;
    }

    /** The book's new output layer: Xavier-uniform weight, zero bias. */
    public void initHeadXavier(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int d = featureDim();
        double bound = Math.sqrt(6.0 / (d + numClasses));
        float[] w = new float[d * numClasses];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
        }
        setHead(w, new float[numClasses]);
    }

    /** Sets the whole head: weight rows per class (row-major, classes x features) and biases. */
    public void setHead(float[] weight, float[] bias) {
        set(headParams.get(headName + ".weight"), weight);
        set(headParams.get(headName + ".bias"), bias);
    }

    /** Sets one head row (a class's weights and bias), e.g. from the source classifier's matching class. */
    public void setHeadRow(int row, float[] weights, float bias) {
        float[] wv = headParams.get(headName + ".weight").getArray().toFloatArray();
        float[] bv = headParams.get(headName + ".bias").getArray().toFloatArray();
        System.arraycopy(weights, 0, wv, row * featureDim(), featureDim());
        bv[row] = bias;
        setHead(wv, bv);
    }

    /** Overwrites a parameter's values in place (same shape), keeping its gradient attachment; any thread. */
    public static void set(Parameter p, float[] values) {
        Params.set(p, values);
    }

    private static String abbreviate(List<String> keys) {
        if (keys.size() <= 12) {
            return String.join(", ", keys);
        }
        return String.join(", ", keys.subList(0, 12)) + ", ... (" + (keys.size() - 12) + " more)";
    }
}
