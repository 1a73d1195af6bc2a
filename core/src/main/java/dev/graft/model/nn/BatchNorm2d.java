package dev.graft.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.graft.onnx.OnnxGraph;

/**
 * torch.nn.BatchNorm2d: {@code weight}, {@code bias} (either may be absent, as Keras's scale/center flags allow),
 * {@code running_mean}, {@code running_var}; momentum in PyTorch's sense (weight of the new batch statistic).
 */
public final class BatchNorm2d extends Module {
    private final Compute compute;
    private final Parameter weight;
    private final Parameter bias;
    private final Parameter runningMean;
    private final Parameter runningVar;
    private final float eps;
    private final float momentum;

    BatchNorm2d(Layers l, int channels, float eps, float momentum, boolean scale, boolean center) {
        this.compute = l.compute();
        Shape s = new Shape(channels);
        this.weight = scale ? add(l.parameter("weight", true, s, 1f)) : null;
        this.bias = center ? add(l.parameter("bias", true, s)) : null;
        this.runningMean = add(l.parameter("running_mean", false, s));
        this.runningVar = add(l.parameter("running_var", false, s, 1f));
        this.eps = eps;
        this.momentum = momentum;
    }

    @Override
    public NDArray apply(NDArray x, boolean training) {
        if (compute.isFolded(this, training)) {
            return x; // the convolution before it already applied it
        }
        return JniUtils.batchNorm((PtNDArray) x, (PtNDArray) runningMean.getArray(), (PtNDArray) runningVar.getArray(),
                weight == null ? null : (PtNDArray) weight.getArray(), bias == null ? null : (PtNDArray) bias.getArray(),
                compute.batchNormTraining(training), momentum, eps);
    }

    /**
     * Nothing where the network's inference weights fold this BatchNorm into the convolution before it; otherwise
     * its evaluation-mode affine map x * s + t per channel (s = gamma / sqrt(var + eps), t = beta - mean * s).
     */
    @Override
    protected OnnxGraph.Value exportOnnx(OnnxGraph g, OnnxGraph.Value x) {
        if (compute.isFolded(this, false)) {
            return x;
        }
        float[] mean = runningMean.getArray().toFloatArray();
        float[] var = runningVar.getArray().toFloatArray();
        float[] gamma = weight == null ? null : weight.getArray().toFloatArray();
        float[] beta = bias == null ? null : bias.getArray().toFloatArray();
        int c = mean.length;
        float[] s = new float[c];
        float[] t = new float[c];
        for (int i = 0; i < c; i++) {
            double scale = (gamma == null ? 1 : gamma[i]) / Math.sqrt(var[i] + (double) eps);
            s[i] = (float) scale;
            t[i] = (float) ((beta == null ? 0 : beta[i]) - mean[i] * scale);
        }
        long[] perChannel = x.rank() == 4 ? new long[] {c, 1, 1} : new long[] {c};
        return g.add(g.mul(x, g.weight("scale", s, perChannel)), g.weight("shift", t, perChannel));
    }

    /** The weight and bias of {@code conv} followed by this BatchNorm in evaluation mode, as one convolution. */
    NDArray[] fold(Conv2d conv) {
        NDArray var = runningVar.getArray();
        long c = var.getShape().get(0);
        NDArray s;
        try (NDArray v = var.add(eps); NDArray sd = v.sqrt()) {
            s = sd.pow(-1);
        }
        if (weight != null) {
            s.muli(weight.getArray());
        }
        NDArray w;
        try (NDArray s4 = s.reshape(c, 1, 1, 1)) {
            w = conv.weight().mul(s4);
        }
        NDArray mean = runningMean.getArray();
        NDArray b = conv.bias() != null ? conv.bias().sub(mean) : mean.neg();
        b.muli(s);
        if (bias != null) {
            b.addi(bias.getArray());
        }
        s.close();
        return new NDArray[] {w, b};
    }
}
