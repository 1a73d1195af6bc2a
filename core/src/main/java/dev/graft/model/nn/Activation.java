package dev.graft.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

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

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
