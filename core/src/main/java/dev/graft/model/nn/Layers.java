package dev.graft.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;

/**
 * Makes the layers of one network, allocated at their known shapes on its manager and sharing its
 * {@link Compute}. Values start at zero (BatchNorm and LayerNorm at identity); pretrained weights or a scratch
 * initialiser fill them.
 */
public final class Layers {
    private final NDManager manager;
    private final Compute compute = new Compute();
    private final Float batchNormMomentum;

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

    public Compute compute() {
        return compute;
    }

    public Conv2d conv(int in, int out, int kernel, int stride, int padding, int groups, boolean bias) {
        return new Conv2d(this, in, out, kernel, kernel, stride, stride, padding, padding, 1, groups, bias);
    }

    public Conv2d conv(int in, int out, int kh, int kw, int sh, int sw, int ph, int pw, int dilation, int groups, boolean bias) {
        return new Conv2d(this, in, out, kh, kw, sh, sw, ph, pw, dilation, groups, bias);
    }

    /** torch.nn.BatchNorm2d(channels): eps 1e-5, momentum 0.1. */
    public BatchNorm2d batchNorm(int channels) {
        return batchNorm(channels, 1e-5f, 0.1f, true, true);
    }

    public BatchNorm2d batchNorm(int channels, float eps, float momentum) {
        return batchNorm(channels, eps, momentum, true, true);
    }

    public BatchNorm2d batchNorm(int channels, float eps, float momentum, boolean scale, boolean center) {
        return new BatchNorm2d(this, channels, eps, batchNormMomentum != null ? batchNormMomentum : momentum, scale, center);
    }

    public Linear linear(int in, int out, boolean bias) {
        return new Linear(this, in, out, bias);
    }

    public MultiheadAttention attention(int dim, int heads) {
        return new MultiheadAttention(this, dim, heads);
    }

    public LayerNorm layerNorm(int channels, double eps) {
        return new LayerNorm(this, channels, eps);
    }

    /** A tensor of zeros as a named parameter (trainable) or buffer (not trainable). */
    public Parameter parameter(String name, boolean trainable, Shape shape) {
        return parameter(name, trainable, shape, 0f);
    }

    public Parameter parameter(String name, boolean trainable, Shape shape, float value) {
        NDArray a = manager.full(shape, value, DataType.FLOAT32);
        a.setRequiresGradient(trainable);
        return Parameter.builder().setName(name).setType(trainable ? Parameter.Type.WEIGHT : Parameter.Type.RUNNING_MEAN)
                .optShape(shape).optArray(a).optRequiresGrad(trainable).build();
    }
}
