package dev.graft.model.nn;

import ai.djl.ndarray.NDArray;
import dev.graft.onnx.OnnxGraph;

/**
 * torchvision's Conv2dNormActivation: Conv2d "0" (padding (k-1)/2, no bias), BatchNorm2d "1", then an activation
 * (no parameters). The BatchNorm folds into the convolution for inference.
 */
public final class ConvNormActivation extends Module {
    private final Conv2d conv;
    private final BatchNorm2d bn;
    private final Activation activation;

    public ConvNormActivation(Layers l, int in, int out, int kernel, int stride, int groups, BatchNormSpec norm, Activation activation) {
        this.conv = add("0", l.conv(in, out, kernel, kernel, stride, stride, (kernel - 1) / 2, (kernel - 1) / 2, 1, groups, false));
        this.bn = add("1", l.batchNorm(out, norm.eps(), norm.momentum()));
        this.activation = activation;
        l.compute().pairForFolding(conv, bn);
    }

    @Override
    public NDArray apply(NDArray x, boolean training) {
        NDArray y = conv.apply(x, training);
        y = free(y, bn.apply(y, training));
        // the normalised output has no other reader: inference overwrites it. Training does not: autograd would clone
        // it first (ReLU6's gradient reads its input), so torch.nn.ReLU6(inplace=True) costs a copy and a pass more than
        // writing a new tensor and keeps as much for backward (MobileNetV2 training: 76 -> 44 ms per batch of 32)
        return Activation.inPlaceAllowed(training) ? activation.applyInPlace(y) : free(y, activation.apply(y));
    }

    @Override
    protected OnnxGraph.Value exportOnnx(OnnxGraph g, OnnxGraph.Value x) {
        return activation.onnx(g, bn.onnx(g, conv.onnx(g, x)));
    }

    /** A BatchNorm2d's eps and momentum (torchvision: 1e-5 and 0.1, MobileNetV3 0.001 and 0.01). */
    public record BatchNormSpec(float eps, float momentum) {
        public static final BatchNormSpec TORCH = new BatchNormSpec(1e-5f, 0.1f);
    }
}
