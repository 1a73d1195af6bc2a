package dev.graft.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Relu6Test {

    @Test
    void reluSixIsOneOpWithTheRightValuesAndGradients() {
        assertTrue(Relu6.fused(), "the shipped relu6.pt did not load; ReLU6 would fall back to the slow clip");
        float[] in = {-3f, -0.5f, 0.25f, 1f, 5.5f, 6.5f, 100f, 3f};
        float[] w = {1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f};
        try (NDManager m = Torch.newManager()) {
            // channels-last 4-d, as in the network
            NDArray x = Torch.channelsLast(m.create(in, new Shape(1, 2, 2, 2)));
            x.setRequiresGradient(true);
            NDArray weights = m.create(w, new Shape(1, 2, 2, 2));
            try (GradientCollector gc = Torch.engine().newGradientCollector()) {
                NDArray y = Relu6.apply(x);
                assertArrayEquals(new float[] {0f, 0f, 0.25f, 1f, 5.5f, 6f, 6f, 3f}, y.toFloatArray());
                gc.backward(y.mul(weights).sum());
            }
            // gradient passes where 0 < x < 6, as torch's ReLU6
            assertArrayEquals(new float[] {0f, 0f, 3f, 4f, 5f, 0f, 0f, 8f}, x.getGradient().toFloatArray());
        }
    }
}
