package dev.graft.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/** torch.nn.Conv2d: {@code weight} (out, in/groups, kh, kw) and an optional {@code bias}. */
public final class Conv2d extends Module {
    private final Compute compute;
    private final Parameter weight;
    private final Parameter bias;
    private final Shape stride;
    private final Shape padding;
    private final Shape dilation;
    private final int groups;

    Conv2d(Layers l, int in, int out, int kh, int kw, int sh, int sw, int ph, int pw, int dilation, int groups, boolean bias) {
        this.compute = l.compute();
        this.weight = add(l.parameter("weight", true, new Shape(out, in / groups, kh, kw)));
        this.bias = bias ? add(l.parameter("bias", true, new Shape(out))) : null;
        this.stride = new Shape(sh, sw);
        this.padding = new Shape(ph, pw);
        this.dilation = new Shape(dilation, dilation);
        this.groups = groups;
        compute.register(this);
    }

    @Override
    public NDArray apply(NDArray x, boolean training) {
        try (Compute.Weights w = compute.weights(this, weight(), bias(), training)) {
            return JniUtils.convolution((PtNDArray) compute.operand(x), (PtNDArray) w.weight(), (PtNDArray) w.bias(), stride, padding, dilation, groups);
        }
    }

    public NDArray weight() {
        return weight.getArray();
    }

    public NDArray bias() {
        return bias == null ? null : bias.getArray();
    }

    public int groups() {
        return groups;
    }

    public long outChannels() {
        return weight.getArray().getShape().get(0);
    }
}
