package dev.graft.model;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;

/** Leaf layers, created with their parameters allocated from the known input channel count. */
public final class Layers {
    private final NDManager manager;
    private final Float batchNormMomentum;
    private final BatchNormFolding folding = new BatchNormFolding();

    public Layers(NDManager manager) {
        this(manager, null);
    }

    /**
     * @param batchNormMomentum overrides every BatchNorm's momentum (PyTorch's sense); null keeps each
     *                          architecture's own (torchvision 0.1, Keras 0.01)
     */
    public Layers(NDManager manager, Float batchNormMomentum) {
        this.manager = manager;
        this.batchNormMomentum = batchNormMomentum;
    }

    public NDManager manager() {
        return manager;
    }

    /** Inference-time folding of the BatchNorms created here into the convolutions declared before them. */
    public BatchNormFolding folding() {
        return folding;
    }

    public Conv2d conv(int in, int out, int kernel, int stride, int padding, int groups, boolean bias) {
        return conv(in, out, kernel, kernel, stride, stride, padding, padding, groups, bias);
    }

    public Conv2d conv(int in, int out, int kh, int kw, int sh, int sw, int ph, int pw, int groups, boolean bias) {
        Conv2d c = Conv2d.builder()
                .setKernelShape(new Shape(kh, kw))
                .optStride(new Shape(sh, sw))
                .optPadding(new Shape(ph, pw))
                .setFilters(out)
                .optGroups(groups)
                .optBias(bias)
                .build();
        return init(c, new Shape(1, in, kh, kw));
    }

    /** BatchNorm over channels; {@code momentum} in PyTorch's sense (weight of the new batch statistic). */
    public BatchNorm batchNorm(int channels, float eps, float momentum, boolean center, boolean scale) {
        float m = batchNormMomentum != null ? batchNormMomentum : momentum;
        BatchNorm bn = BatchNorm.builder()
                .optEpsilon(eps)
                .optMomentum(1f - m) // DJL uses MXNet's convention and converts back for PyTorch
                .optCenter(center)
                .optScale(scale)
                .build();
        folding.registerEpsilon(bn, eps);
        return init(bn, new Shape(1, channels, 1, 1));
    }

    public BatchNorm batchNorm(int channels) {
        return batchNorm(channels, 1e-5f, 0.1f, true, true);
    }

    public Linear linear(int in, int out, boolean bias) {
        return init(Linear.builder().setUnits(out).optBias(bias).build(), new Shape(1, in));
    }

    private <B extends Block> B init(B block, Shape input) {
        block.initialize(manager, DataType.FLOAT32, input);
        return block;
    }
}
