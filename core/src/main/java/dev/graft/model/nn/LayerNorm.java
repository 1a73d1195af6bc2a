package dev.graft.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.graft.onnx.OnnxGraph;

/**
 * torch.nn.LayerNorm over the last dimension ({@code weight}, {@code bias}); {@link #applyChannels} normalises
 * NCHW activations over channels, as torchvision's LayerNorm2d (ConvNeXt) does by permuting around it.
 */
public final class LayerNorm extends Module {
    private final Parameter weight;
    private final Parameter bias;
    private final Shape shape;
    private final double eps;

    LayerNorm(Layers l, int channels, double eps) {
        this.shape = new Shape(channels);
        this.weight = add(l.parameter("weight", true, shape, 1f));
        this.bias = add(l.parameter("bias", true, shape));
        this.eps = eps;
    }

    @Override
    public NDArray apply(NDArray x, boolean training) {
        return JniUtils.layerNorm((PtNDArray) x, shape, (PtNDArray) weight.getArray(), (PtNDArray) bias.getArray(), eps);
    }

    @Override
    protected OnnxGraph.Value exportOnnx(OnnxGraph g, OnnxGraph.Value x) {
        return g.layerNorm(x, floats(weight.getArray()), floats(bias.getArray()), (float) eps);
    }

    /** LayerNorm2d in ONNX: NCHW transposed to NHWC, normalised over C, transposed back. */
    public OnnxGraph.Value onnxChannels(OnnxGraph g, OnnxGraph.Value x) {
        return g.in(this, () -> g.transpose(exportOnnx(g, g.transpose(x, 0, 2, 3, 1)), 0, 3, 1, 2));
    }

    /** LayerNorm2d: NCHW in, normalised over C, NCHW out. */
    public NDArray applyChannels(NDArray x, boolean training) {
        try (NDArray nhwc = x.transpose(0, 2, 3, 1); NDArray y = apply(nhwc, training)) {
            return y.transpose(0, 3, 1, 2);
        }
    }
}
