package dev.graft.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;

/** Writing values into parameters. */
public final class Params {
    private Params() {
    }

    /** Overwrites a parameter's values in place (same shape), keeping its gradient attachment; from any thread. */
    public static void set(Parameter p, float[] values) {
        NDArray a = p.getArray();
        if (a.getDataType() != DataType.FLOAT32 || a.size() != values.length) {
            throw new IllegalArgumentException("cannot set " + p.getName() + " " + a.getShape() + " from " + values.length + " values");
        }
        // copied inside the engine: the parameter never aliases Java memory
        Torch.noGrad(() -> {
            try (NDArray src = a.getManager().create(values, a.getShape())) {
                a.set(new NDIndex(":"), src);
            }
        });
    }
}
