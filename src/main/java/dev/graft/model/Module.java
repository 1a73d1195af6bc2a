package dev.graft.model;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;

/**
 * Base of graft's composite blocks. Leaf layers are created already initialised (see {@link Layers}), because
 * every architecture here knows its channel counts; so composites need no shape inference.
 */
public abstract class Module extends AbstractBlock {

    protected <B extends Block> B add(String name, B block) {
        return addChildBlock(name, block);
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        // children are initialised when they are built
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " does not infer shapes");
    }

    /** The name a child was added under (DJL prefixes it with its position). */
    static String childName(int index, String key) {
        String prefix = String.format(java.util.Locale.ROOT, "%02d", index + 1);
        return key.startsWith(prefix) ? key.substring(prefix.length()) : key;
    }
}
