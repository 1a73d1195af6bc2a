package dev.graft.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

import java.util.function.DoubleUnaryOperator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The scripted one-op activations compute torch's values and gradients, on channels-last 4-d input as in a network. */
class OpsTest {
    static final float[] IN = {-7f, -3f, -0.5f, 0.25f, 1f, 2.9f, 5.5f, 6.5f};

    static void check(Activation a, DoubleUnaryOperator f, DoubleUnaryOperator df) {
        float[] w = {1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f};
        try (NDManager m = Torch.newManager()) {
            NDArray x = Compute.toChannelsLast(m.create(IN, new Shape(1, 2, 2, 2)));
            x.setRequiresGradient(true);
            NDArray weights = m.create(w, new Shape(1, 2, 2, 2));
            float[] y;
            try (GradientCollector gc = Torch.engine().newGradientCollector()) {
                NDArray out = a.apply(x);
                y = out.toFloatArray();
                gc.backward(out.mul(weights).sum());
            }
            float[] g = x.getGradient().toFloatArray();
            for (int i = 0; i < IN.length; i++) {
                assertEquals(f.applyAsDouble(IN[i]), y[i], 1e-6, a + " value at " + IN[i]);
                assertEquals(w[i] * df.applyAsDouble(IN[i]), g[i], 1e-5, a + " gradient at " + IN[i]);
            }
        }
    }

    @Test
    void relu6() {
        check(Activation.RELU6, v -> Math.min(Math.max(v, 0), 6), v -> v > 0 && v < 6 ? 1 : 0);
    }

    @Test
    void hardswish() {
        // torch: x * relu6(x + 3) / 6; gradient 0 below -3, 1 above 3, (2x + 3) / 6 between
        check(Activation.HARDSWISH, v -> v * Math.min(Math.max(v + 3, 0), 6) / 6, v -> v < -3 ? 0 : v > 3 ? 1 : (2 * v + 3) / 6);
    }

    @Test
    void hardsigmoid() {
        check(Activation.HARDSIGMOID, v -> Math.min(Math.max(v / 6 + 0.5, 0), 1), v -> v > -3 && v < 3 ? 1.0 / 6 : 0);
    }

    @Test
    void silu() {
        check(Activation.SILU, v -> v / (1 + Math.exp(-v)), v -> {
            double s = 1 / (1 + Math.exp(-v));
            return s * (1 + v * (1 - s));
        });
    }

    @Test
    void castsKeepAutogradAndComeBackAsFloat32() {
        try (NDManager m = Torch.newManager()) {
            NDArray x = m.create(new float[] {1f, 2f, 3.5f});
            x.setRequiresGradient(true);
            try (GradientCollector gc = Torch.engine().newGradientCollector()) {
                NDArray back = Ops.FLOAT32.apply(Ops.BFLOAT16.apply(x));
                assertArrayEquals(new float[] {1f, 2f, 3.5f}, back.toFloatArray());
                gc.backward(back.mul(3).sum());
            }
            assertArrayEquals(new float[] {3f, 3f, 3f}, x.getGradient().toFloatArray());
        }
    }
}
