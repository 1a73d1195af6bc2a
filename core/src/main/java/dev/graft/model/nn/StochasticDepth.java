package dev.graft.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * torchvision's stochastic depth in "row" mode (Huang et al.): in training, each sample's residual branch is
 * dropped with probability p and kept ones are scaled by 1/(1-p); in evaluation the identity. The masks come from
 * the engine's generator, which the trainer seeds per batch, so a resumed run draws the same ones.
 */
public final class StochasticDepth {
    private StochasticDepth() {
    }

    public static NDArray apply(Compute compute, NDArray x, double p, boolean training) {
        if (!compute.stochastic(training) || p == 0) {
            return x;
        }
        double keep = 1 - p;
        long[] s = x.getShape().getShape();
        long[] rowShape = new long[s.length];
        java.util.Arrays.fill(rowShape, 1);
        rowShape[0] = s[0];
        try (NDArray u = x.getManager().randomUniform(0, 1, new Shape(rowShape));
             NDArray kept = u.lt(keep);
             NDArray mask = kept.toType(DataType.FLOAT32, false).divi(keep);
             NDArray typed = Ops.like(mask, x)) {
            return x.mul(typed);
        }
    }
}
