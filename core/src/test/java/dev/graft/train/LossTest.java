package dev.graft.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.graft.model.nn.Torch;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Label smoothing and class weights on a batch whose loss is worked out by hand. */
class LossTest {
    static final float[] LOGITS = {2f, 0f, -1f, 0.5f, 1.5f, 0f};
    static final int[] LABELS = {0, 2};

    static double logSoftmax(int row, int c) {
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < 3; k++) {
            max = Math.max(max, LOGITS[row * 3 + k]);
        }
        double sum = 0;
        for (int k = 0; k < 3; k++) {
            sum += Math.exp(LOGITS[row * 3 + k] - max);
        }
        return LOGITS[row * 3 + c] - max - Math.log(sum);
    }

    static NDArray onehot(NDManager m) {
        float[] t = new float[6];
        t[LABELS[0]] = 1;
        t[3 + LABELS[1]] = 1;
        return m.create(t, new Shape(2, 3));
    }

    @Test
    void labelSmoothingIsCrossEntropyAgainstSmoothedTargets() {
        double eps = 0.1;
        try (NDManager m = Torch.newManager()) {
            NDArray logits = m.create(LOGITS, new Shape(2, 3));
            float[] got = new Loss(Recipe.Reduction.SUM, eps, null).perExample(logits, onehot(m))[0].toFloatArray();
            for (int i = 0; i < 2; i++) {
                // fastai's LabelSmoothingCrossEntropy: (1 - eps) nll + eps * mean over classes of -log p
                double nll = -logSoftmax(i, LABELS[i]);
                double uniform = 0;
                for (int c = 0; c < 3; c++) {
                    uniform += -logSoftmax(i, c) / 3;
                }
                assertEquals((1 - eps) * nll + eps * uniform, got[i], 1e-5, "example " + i);
            }
            float[] plain = new Loss(Recipe.Reduction.SUM).perExample(logits, onehot(m))[0].toFloatArray();
            assertArrayEquals(new float[] {(float) -logSoftmax(0, 0), (float) -logSoftmax(1, 2)}, plain, 1e-5f);
        }
    }

    @Test
    void balancedClassWeightsScaleEachExampleAndTheMean() {
        // counts 30, 10, 20: Keras's balanced weights n / (classes x count) = 60 / 90, 60 / 30, 60 / 60
        float[] w = Loss.balanced(new int[] {30, 10, 20});
        assertArrayEquals(new float[] {60f / 90, 2f, 1f}, w, 1e-6f);
        try (NDManager m = Torch.newManager()) {
            NDArray logits = m.create(LOGITS, new Shape(2, 3));
            Loss mean = new Loss(Recipe.Reduction.MEAN, 0, w);
            NDArray[] per = mean.perExample(logits, onehot(m));
            double l0 = -logSoftmax(0, 0) * w[0];
            double l1 = -logSoftmax(1, 2) * w[2];
            assertArrayEquals(new float[] {(float) l0, (float) l1}, per[0].toFloatArray(), 1e-5f);
            // torch's CrossEntropyLoss(weight=w, reduction="mean") divides by the weights' sum
            assertEquals((l0 + l1) / (w[0] + w[2]), mean.reduce(per).getFloat(), 1e-5);
            assertEquals(l0 + l1, new Loss(Recipe.Reduction.SUM, 0, w).reduce(per).getFloat(), 1e-5);
        }
    }
}
