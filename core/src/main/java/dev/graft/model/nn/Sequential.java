package dev.graft.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.util.Pair;
import dev.graft.onnx.OnnxGraph;

/** torch.nn.Sequential: children named "0", "1", ... (or as given), applied in order. */
public final class Sequential extends Module {

    public <B extends Module> B add(B block) {
        return add(Integer.toString(getChildren().size()), block);
    }

    public <B extends Module> B add(String name, B block) {
        return super.add(name, block);
    }

    @Override
    public NDArray apply(NDArray x, boolean training) {
        NDArray a = x;
        for (Pair<String, Block> c : getChildren()) {
            NDArray next = ((Module) c.getValue()).apply(a, training);
            if (a != x) {
                Module.free(a, next);
            }
            a = next;
        }
        return a;
    }

    @Override
    protected OnnxGraph.Value exportOnnx(OnnxGraph g, OnnxGraph.Value x) {
        OnnxGraph.Value a = x;
        for (Pair<String, Block> c : getChildren()) {
            a = ((Module) c.getValue()).onnx(g, a);
        }
        return a;
    }

    public int size() {
        return getChildren().size();
    }
}
