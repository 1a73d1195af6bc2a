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

import java.util.Map;

/**
 * Base of graft's layers, a DJL block like torch.nn.Module: children and parameters in insertion order, named as
 * the source framework names them, so a state_dict maps by name. Leaf layers are created already initialised
 * (see {@link Layers}), because every architecture here knows its channel counts: no shape inference.
 */
public abstract class Module extends AbstractBlock {

    /** The layer's computation on one input; {@code training} selects batch statistics, dropout and drop-path. */
    public abstract NDArray apply(NDArray x, boolean training);

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
