package dev.graft.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import dev.graft.onnx.OnnxGraph;

import java.util.Map;

/**
 * Base of graft's layers, a DJL block like torch.nn.Module: children and parameters in insertion order, named as
 * the source framework names them, so a state_dict maps by name. Leaf layers are created already initialised
 * (see {@link Layers}), because every architecture here knows its channel counts: no shape inference.
 */
public abstract class Module extends AbstractBlock {

    /** The layer's computation on one input; {@code training} selects batch statistics, dropout and drop-path. */
    public abstract NDArray apply(NDArray x, boolean training);

    /**
     * A network's NCHW input batch as this block, the network's body, takes it in {@link #apply}: by default in
     * {@code compute}'s memory order and type ({@link Compute#input(NDArray, boolean)}). A body may take it as it is
     * and lay it out itself, where it can do that in fewer passes.
     */
    public NDArray input(Compute compute, NDArray images, boolean training) {
        return compute.input(images, training);
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(apply(inputs.singletonOrThrow(), training));
    }

    protected <B extends Block> B add(String name, B block) {
        return addChildBlock(name, block);
    }

    protected Parameter add(Parameter p) {
        return addParameter(p);
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        // children are initialised when they are built
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " does not infer shapes");
    }

    /**
     * Emits this layer's inference computation into an ONNX graph (evaluation mode, float32; a BatchNorm that the
     * network's inference weights fold into its convolution emits nothing) and returns its output. Each layer type
     * that has an ONNX form overrides this; one that keeps this default makes its network unexportable, and the
     * export says which layer. Call {@link #onnx}, which names the nodes after the layer.
     */
    protected OnnxGraph.Value exportOnnx(OnnxGraph g, OnnxGraph.Value x) {
        throw g.unsupported(this, "graft has no ONNX form for " + getClass().getSimpleName() + " layers");
    }

    /** This layer's ONNX nodes reading {@code x} (see {@link #exportOnnx}), named after the layer. */
    public final OnnxGraph.Value onnx(OnnxGraph g, OnnxGraph.Value x) {
        return g.in(this, () -> exportOnnx(g, x));
    }

    /** A float32 copy of a tensor's values (bfloat16 ones cast first). */
    protected static float[] floats(NDArray a) {
        if (a.getDataType() == DataType.FLOAT32) {
            return a.toFloatArray();
        }
        try (NDArray f = Ops.FLOAT32.apply(a)) {
            return f.toFloatArray();
        }
    }

    /** Every block of a tree by its name, as {@link #collect} names parameters: "" for the root, "layer1.0.conv1". */
    public static void paths(Block block, String prefix, Map<Object, String> out) {
        out.put(block, prefix.endsWith(".") ? prefix.substring(0, prefix.length() - 1) : prefix);
        int i = 0;
        for (Pair<String, Block> c : block.getChildren()) {
            paths(c.getValue(), prefix + childName(i++, c.getKey()) + ".", out);
        }
    }

    /**
     * Closes an activation once the next layer has used it, as PyTorch's reference counting frees it; DJL would
     * keep every activation to the end of the batch. Autograd holds its own reference to what backward needs.
     */
    public static NDArray free(NDArray used, NDArray result) {
        if (used != result) {
            used.close();
        }
        return result;
    }

    /** Every parameter and buffer of a block tree, depth-first in insertion order, names joined with dots. */
    public static void collect(Block block, String prefix, Map<String, Parameter> out) {
        for (Pair<String, Parameter> p : block.getDirectParameters()) {
            out.put(prefix + p.getKey(), p.getValue());
        }
        int i = 0;
        for (Pair<String, Block> c : block.getChildren()) {
            collect(c.getValue(), prefix + childName(i++, c.getKey()) + ".", out);
        }
    }

    /** The name a child was added under (DJL prefixes it with its position). */
    static String childName(int index, String key) {
        String prefix = String.format(java.util.Locale.ROOT, "%02d", index + 1);
        return key.startsWith(prefix) ? key.substring(prefix.length()) : key;
    }
}
