package dev.graft.model.nn;

import ai.djl.ndarray.NDArray;
import dev.graft.onnx.OnnxGraph;

/**
 * torchvision's SqueezeExcitation (Hu et al.): global average pool, 1x1 conv {@code fc1} down to the squeeze
 * channels, activation, 1x1 conv {@code fc2} back, a gate (sigmoid or hardsigmoid), and the input scaled by it.
 */
public final class SqueezeExcitation extends Module {
    private final Conv2d fc1;
    private final Conv2d fc2;
    private final Activation activation;
    private final Activation gate;

    public SqueezeExcitation(Layers l, int channels, int squeeze, Activation activation, Activation gate) {
        this.fc1 = add("fc1", l.conv(channels, squeeze, 1, 1, 0, 1, true));
        this.fc2 = add("fc2", l.conv(squeeze, channels, 1, 1, 0, 1, true));
        this.activation = activation;
        this.gate = gate;
    }

    @Override
    protected OnnxGraph.Value exportOnnx(OnnxGraph g, OnnxGraph.Value x) {
        OnnxGraph.Value s = g.globalPool(false, x);
        s = gate.onnx(g, fc2.onnx(g, activation.onnx(g, fc1.onnx(g, s))));
        return g.mul(x, s);
    }

    @Override
    public NDArray apply(NDArray x, boolean training) {
        NDArray s = x.getNDArrayInternal().globalAvgPool();
        s = free(s, s.reshape(s.getShape().get(0), s.getShape().get(1), 1, 1));
        s = free(s, fc1.apply(s, training));
        s = free(s, activation.apply(s));
        s = free(s, fc2.apply(s, training));
        s = free(s, gate.apply(s));
        return free(s, x.mul(s));
    }
}
