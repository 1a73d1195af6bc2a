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
            PtNDArray in = (PtNDArray) compute.operand(x);
            if (pointwise() && compute.channelsLast() && in.getShape().dimension() == 4) {
                return pointwise(in, (PtNDArray) w.weight(), (PtNDArray) w.bias());
            }
            return JniUtils.convolution(in, (PtNDArray) w.weight(), (PtNDArray) w.bias(), stride, padding, dilation, groups);
        }
    }

    private boolean pointwise() {
        Shape k = weight.getArray().getShape();
        return groups == 1 && k.get(2) == 1 && k.get(3) == 1 && padding.get(0) == 0 && padding.get(1) == 0;
    }

    /**
     * A 1x1 convolution of a channels-last activation as the matrix product it is: y[n,h,w,:] = W x[n,h,w,:] + b
     * on the NHWC view, whose result is channels-last again. Why not the convolution: libtorch 2.7.1's oneDNN
     * 1x1 kernel picks its blocking from the CPU's cache sizes, and on machines (VMs) that report none it returned
     * wrong values (14% relative error for 256 -> 512 channels at 7x7, ResNet-18's last downsample) or crashed
     * the JVM; the product is exact there and as fast.
     */
    private NDArray pointwise(PtNDArray x, PtNDArray w, PtNDArray b) {
        Shape s = w.getShape();
        PtNDArray in = x;
        if (stride.get(0) > 1 || stride.get(1) > 1) {
            // a strided 1x1 convolution reads every stride-th pixel
            in = JniUtils.slice(JniUtils.slice(x, 2, 0, x.getShape().get(2), stride.get(0)), 3, 0, x.getShape().get(3), stride.get(1));
        }
        PtNDArray nhwc = JniUtils.permute(in, new long[] {0, 2, 3, 1});
        PtNDArray w2 = JniUtils.reshape(w, new long[] {s.get(0), s.get(1)});
        PtNDArray y = JniUtils.linear(nhwc, w2, b);
        // views: closing their handles frees nothing the result needs
        nhwc.close();
        w2.close();
        if (in != x) {
            in.close();
        }
        return free(y, JniUtils.permute(y, new long[] {0, 3, 1, 2}));
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
