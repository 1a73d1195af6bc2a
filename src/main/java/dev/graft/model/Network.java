package dev.graft.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.graft.weights.StateDict;
import dev.graft.weights.TensorData;

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
    private final Block body;
    private final Linear head;
    private final String headName;
    private final int featureDim;
    private final int numClasses;
    private final Map<String, Parameter> bodyParams;
    private final Map<String, Parameter> headParams = new LinkedHashMap<>();
    private final NDManager manager;
    private final BatchNormFolding folding;
    private boolean frozenBody;
    private boolean bodyStatisticsFrozen;

    public Network(String architecture, Block body, Map<String, Parameter> bodyParams, int featureDim, int numClasses,
                   String headName, Layers layers) {
        this.architecture = architecture;
        this.body = add("body", body);
        this.head = add(headName, layers.linear(featureDim, numClasses, true));
        this.headName = headName;
        this.featureDim = featureDim;
        this.numClasses = numClasses;
        this.bodyParams = Collections.unmodifiableMap(new LinkedHashMap<>(bodyParams));
        this.manager = layers.manager();
        this.folding = layers.folding();
        headParams.put(headName + ".weight", head.getParameters().get("weight"));
        headParams.put(headName + ".bias", head.getParameters().get("bias"));
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return head.forward(ps, features(ps, inputs, training), training);
    }

    /**
     * The body's pooled feature vectors. A frozen body always runs in evaluation mode; so does a body whose
     * BatchNorm statistics are frozen (its weights still train, normalised with the source's running statistics).
     */
    public NDList features(ParameterStore ps, NDList inputs, boolean training) {
        return body.forward(ps, new NDList(Torch.channelsLast(inputs.singletonOrThrow())), training && !frozenBody && !bodyStatisticsFrozen);
    }

    /**
     * Folds every BatchNorm into the convolution before it, from the current weights, for forwards that do not
     * train (evaluation, prediction, feature caching); training forwards are unaffected. The weights must not
     * change until {@link #unfoldBatchNorm()}.
     */
    public void foldBatchNorm() {
        folding.fold();
    }

    public void unfoldBatchNorm() {
        folding.unfold();
    }

    /** Trains the body's weights while BatchNorm keeps using (and not updating) its running statistics. */
    public void setBatchNormStatisticsFrozen(boolean frozen) {
        this.bodyStatisticsFrozen = frozen;
    }

    public NDList headForward(ParameterStore ps, NDList features, boolean training) {
        return head.forward(ps, features, training);
    }

    public String architecture() {
        return architecture;
    }

    public int featureDim() {
        return featureDim;
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
        return bodyParams;
    }

    public Map<String, Parameter> headParameters() {
        return Collections.unmodifiableMap(headParams);
    }

    /** All parameters and buffers by name, body first. */
    public Map<String, Parameter> namedParameters() {
        Map<String, Parameter> all = new LinkedHashMap<>(bodyParams);
        all.putAll(headParams);
        return all;
    }

    /** Freezes (or unfreezes) the body: no gradients, and BatchNorm statistics stay put. */
    public void setFrozenBody(boolean frozen) {
        this.frozenBody = frozen;
        for (Parameter p : bodyParams.values()) {
            if (p.requiresGradient()) {
                p.getArray().setRequiresGradient(!frozen);
            }
        }
    }

    public boolean isFrozenBody() {
        return frozenBody;
    }

    /** Parameters that the optimizer updates, by name. */
    public Map<String, Parameter> trainableParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        if (!frozenBody) {
            bodyParams.forEach((k, p) -> {
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
        for (Map.Entry<String, Parameter> e : bodyParams.entrySet()) {
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
            if (bodyParams.containsKey(k) || k.endsWith("num_batches_tracked")
                    || ignorePrefixes.stream().anyMatch(k::startsWith)) {
                continue;
            }
            unexpected.add(k);
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
            throw new dev.graft.weights.WeightsException(sd.source(), msg.toString());
        }
        for (Map.Entry<String, Parameter> e : bodyParams.entrySet()) {
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
                throw new dev.graft.weights.WeightsException(sd.source(), "head " + e.getKey() + " has shape "
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
        double bound = Math.sqrt(6.0 / (featureDim + numClasses));
        float[] w = new float[featureDim * numClasses];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
        }
        set(headParams.get(headName + ".weight"), w);
        set(headParams.get(headName + ".bias"), new float[numClasses]);
    }

    /** Sets one head row (a class's weights and bias), e.g. from the source classifier's matching class. */
    public void setHeadRow(int row, float[] weights, float bias) {
        Parameter w = headParams.get(headName + ".weight");
        Parameter b = headParams.get(headName + ".bias");
        float[] wv = w.getArray().toFloatArray();
        float[] bv = b.getArray().toFloatArray();
        System.arraycopy(weights, 0, wv, row * featureDim, featureDim);
        bv[row] = bias;
        set(w, wv);
        set(b, bv);
    }

    /** Overwrites a parameter's values in place (same shape), keeping its gradient attachment. */
    public static void set(Parameter p, float[] values) {
        NDArray a = p.getArray();
        if (a.getDataType() != DataType.FLOAT32 || a.size() != values.length) {
            throw new IllegalArgumentException("cannot set " + p.getName() + " " + a.getShape() + " from " + values.length + " values");
        }
        // copied inside the engine: the parameter never aliases Java memory
        try (NDArray src = a.getManager().create(values, a.getShape())) {
            a.set(new NDIndex(":"), src);
        }
    }

    private static String abbreviate(List<String> keys) {
        if (keys.size() <= 12) {
            return String.join(", ", keys);
        }
        return String.join(", ", keys.subList(0, 12)) + ", ... (" + (keys.size() - 12) + " more)";
    }

    /** A dummy forward to check the wiring; returns logits shape for a batch of one. */
    public Shape probeOutputShape(int size) {
        try (NDManager m = manager.newSubManager()) {
            NDArray x = m.zeros(new Shape(1, 3, size, size));
            return forward(new ParameterStore(m, false), new NDList(x), false).singletonOrThrow().getShape();
        }
    }
}
