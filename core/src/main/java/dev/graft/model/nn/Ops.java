package dev.graft.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Locale;

/**
 * libtorch operators that DJL 0.36 does not expose, each one op with a one-pass backward: ReLU6 (hardtanh),
 * Hardswish, Hardsigmoid, SiLU, ReLU in place, and autograd-keeping casts to and from bfloat16. Composed from DJL's own operators
 * their backward makes several passes over each activation (MobileNet v1 trained 35% slower with ReLU6 as clip).
 * For inference, ReLU6 in place and ReLU6 fused with TensorFlow's 'same' padding (see {@link #RELU6_PAD}); for a
 * network's input, its channels-last copy fused with that padding ({@link #PAD_CHANNELS_LAST}).
 * Each comes from a tiny TorchScript module in {@code ops/} that {@code tools/make_ops.py} writes.
 */
public enum Ops {
    RELU6, HARDSWISH, HARDSIGMOID, SILU, BFLOAT16, FLOAT32,
    /**
     * ReLU in place, as torch.nn.ReLU(inplace=True), in training too: its gradient reads its output, so autograd keeps
     * that and copies nothing (ReLU6's reads its input, which autograd would clone first).
     */
    RELU_INPLACE,
    /** Inference only (no autograd): ReLU6 in place; ReLU6 into a buffer padded by one zero row and column (bottom, right). */
    RELU6_INPLACE, RELU6_PAD,
    /**
     * Not differentiated (for a network's input): the values padded by one zero row and column at the bottom and right,
     * in channels-last order, in one copy from any memory order.
     */
    PAD_CHANNELS_LAST;

    private final PtSymbolBlock module = load(name().toLowerCase(Locale.ROOT));

    private static PtSymbolBlock load(String name) {
        try (InputStream in = Ops.class.getResourceAsStream("ops/" + name + ".pt")) {
            if (in == null) {
                throw new IllegalStateException("graft's resource ops/" + name + ".pt is missing (rebuild with tools/make_ops.py)");
            }
            PtSymbolBlock b = JniUtils.loadModule((PtNDManager) Torch.engine().newBaseManager(), in, true, false);
            // always run in "train" mode: these ops behave the same in both, and DJL runs an eval-mode module
            // without autograd. One call here does DJL's first-call bookkeeping before any concurrent use.
            try (NDManager m = Torch.newManager()) {
                b.forward(new ParameterStore(m, false), new NDList(m.create(new float[] {7f}, new ai.djl.ndarray.types.Shape(1, 1, 1, 1))), true);
            }
            return b;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public NDArray apply(NDArray x) {
        return module.forward(new ParameterStore(x.getManager(), false), new NDList(x), true).singletonOrThrow();
    }

    /** A float32 {@code a} in {@code ref}'s compute type (bfloat16 under that precision), for elementwise products. */
    public static NDArray like(NDArray a, NDArray ref) {
        return ref.getDataType() == DataType.FLOAT32 ? a.duplicate() : BFLOAT16.apply(a);
    }

    /** x in float32 (DJL reports libtorch's bfloat16 as an unknown type, so anything not float32 is cast). */
    public static NDArray toFloat32(NDArray x) {
        return x.getDataType() == DataType.FLOAT32 ? x : FLOAT32.apply(x);
    }
}
