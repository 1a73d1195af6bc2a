package dev.graft.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.graft.onnx.OnnxGraph;

/** torch.nn.Linear: {@code weight} (out, in) and an optional {@code bias}; applies to the last dimension. */
public final class Linear extends Module {
    private final Compute compute;
    private final Parameter weight;
    private final Parameter bias;

    Linear(Layers l, int in, int out, boolean bias) {
        this.compute = l.compute();
        this.weight = add(l.parameter("weight", true, new Shape(out, in)));
        this.bias = bias ? add(l.parameter("bias", true, new Shape(out))) : null;
        compute.register(this);
    }

    @Override
    public NDArray apply(NDArray x, boolean training) {
        try (Compute.Weights w = compute.weights(this, weight(), bias(), training)) {
            return JniUtils.linear((PtNDArray) compute.operand(x), (PtNDArray) w.weight(), (PtNDArray) w.bias());
        }
    }

    @Override
    protected OnnxGraph.Value exportOnnx(OnnxGraph g, OnnxGraph.Value x) {
        try (Compute.Weights w = compute.weights(this, weight(), bias(), false)) {
            Shape s = w.weight().getShape();
            return g.linear(x, floats(w.weight()), (int) s.get(0), (int) s.get(1), w.bias() == null ? null : floats(w.bias()));
        }
    }

    public NDArray weight() {
        return weight.getArray();
    }

    public NDArray bias() {
        return bias == null ? null : bias.getArray();
    }
}
