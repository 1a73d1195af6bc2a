package dev.graft.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.graft.onnx.OnnxGraph;

import java.util.Locale;

/** The activation functions of torchvision's and Keras's models, each one libtorch operator. */
public enum Activation {
    IDENTITY, RELU, RELU6, HARDSWISH, HARDSIGMOID, SILU, GELU, SIGMOID, TANH, ELU, SOFTPLUS;

    /** f(x), a new array (the input stays: callers free it when they are its last reader). */
    public NDArray apply(NDArray x) {
        return switch (this) {
            case IDENTITY -> x;
            case RELU -> JniUtils.relu((PtNDArray) x);
            case RELU6 -> Ops.RELU6.apply(x);
            case HARDSWISH -> Ops.HARDSWISH.apply(x);
            case HARDSIGMOID -> Ops.HARDSIGMOID.apply(x);
            case SILU -> Ops.SILU.apply(x);
            case GELU -> JniUtils.gelu((PtNDArray) x); // exact (erf), as torch.nn.GELU()
            case SIGMOID -> JniUtils.sigmoid((PtNDArray) x);
            case TANH -> JniUtils.tanh((PtNDArray) x);
            case ELU -> JniUtils.elu((PtNDArray) x, 1.0); // Keras's and torch's default alpha
            case SOFTPLUS -> JniUtils.softPlus((PtNDArray) x);
        };
    }

    /** f(x) in ONNX (opset 17), as libtorch computes it: GELU exact (erf), Hardsigmoid relu6(x + 3) / 6. */
    public OnnxGraph.Value onnx(OnnxGraph g, OnnxGraph.Value x) {
        return switch (this) {
            case IDENTITY -> x;
            case RELU -> g.unary("Relu", x);
            case RELU6 -> g.clip(x, 0f, 6f);
            case HARDSWISH -> g.unary("HardSwish", x);
            case HARDSIGMOID -> g.unary("HardSigmoid", x, dev.graft.onnx.OnnxAttr.of("alpha", 1f / 6f), dev.graft.onnx.OnnxAttr.of("beta", 0.5f));
            case SILU -> g.mul(x, g.unary("Sigmoid", x));
            // x * 0.5 * (1 + erf(x / sqrt 2)), in the form ONNX Runtime fuses into one Gelu kernel
            case GELU -> g.mul(g.mul(x, g.add(g.unary("Erf", g.div(x, g.scalar((float) Math.sqrt(2)))), g.scalar(1f))), g.scalar(0.5f));
            case SIGMOID -> g.unary("Sigmoid", x);
            case TANH -> g.unary("Tanh", x);
            case ELU -> g.unary("Elu", x, dev.graft.onnx.OnnxAttr.of("alpha", 1f));
            case SOFTPLUS -> g.unary("Softplus", x);
        };
    }

    /**
     * f(x), overwriting x where libtorch can (ReLU and ReLU6, as torch.nn.ReLU(inplace=True) and ReLU6(inplace=True)):
     * for an activation whose only reader is this function. ReLU also under autograd (its gradient reads its output);
     * ReLU6 only in forwards that do not train (under autograd libtorch would clone x first, as ReLU6's gradient reads
     * it: a copy more than writing a new tensor). Returns the result; x's handle is freed.
     */
    public NDArray applyInPlace(NDArray x) {
        return Module.free(x, switch (this) {
            case RELU -> Ops.RELU_INPLACE.apply(x);
            case RELU6 -> Ops.RELU6_INPLACE.apply(x);
            default -> apply(x);
        });
    }

    /** Whether this forward may overwrite activations: no training, no autograd recording on this thread. */
    public static boolean inPlaceAllowed(boolean training) {
        return !training && !JniUtils.isGradMode();
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
