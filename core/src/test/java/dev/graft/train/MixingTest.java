package dev.graft.train;

import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** MixUp and CutMix mix the images and the labels in the same proportion. */
class MixingTest {
    /** Image i has class i and every pixel i + 1, so a pixel tells which image it came from. */
    static final int N = 5;
    static final int SIDE = 8;
    static final int PER = 3 * SIDE * SIDE;

    static BatchSource.Batch batch() {
        float[] data = new float[N * PER];
        int[] labels = new int[N];
        for (int i = 0; i < N; i++) {
            java.util.Arrays.fill(data, i * PER, (i + 1) * PER, i + 1);
            labels[i] = i;
        }
        return new BatchSource.Batch(N, data, new Shape(N, 3, SIDE, SIDE), labels, new int[N], false);
    }

    /** The partner class (the other nonzero target), or i when the image was mixed with itself. */
    static int partner(float[] t, int i) {
        for (int c = 0; c < N; c++) {
            if (c != i && t[c] > 0) {
                return c;
            }
        }
        return i;
    }

    @Test
    void mixupBlendsImagesAndOneHotLabelsWithTheSameLambda() {
        for (long seed = 1; seed <= 5; seed++) {
            BatchSource.Batch m = Mixing.mix(batch(), 0.4, 0, N, new SplittableRandom(seed));
            for (int i = 0; i < N; i++) {
                float[] t = java.util.Arrays.copyOfRange(m.targets(), i * N, (i + 1) * N);
                int j = partner(t, i);
                float lambda = t[i];
                assertEquals(1f, t[i] + (j == i ? 0 : t[j]), 1e-6);
                assertTrue(lambda >= 0.5f - 1e-6, "fastai keeps lambda >= 0.5: " + lambda);
                float expected = lambda * (i + 1) + (1 - lambda) * (j + 1);
                for (int k = 0; k < PER; k++) {
                    assertEquals(expected, m.data()[i * PER + k], 1e-4, "image " + i + " pixel " + k);
                }
                assertEquals(i, m.labels()[i], "the hard labels (for accuracy) stay the originals");
            }
        }
    }

    @Test
    void cutmixPastesABoxAndWeighsLabelsByItsArea() {
        int pasted = 0;
        for (long seed = 1; seed <= 5; seed++) {
            BatchSource.Batch m = Mixing.mix(batch(), 0, 1.0, N, new SplittableRandom(seed));
            for (int i = 0; i < N; i++) {
                float[] t = java.util.Arrays.copyOfRange(m.targets(), i * N, (i + 1) * N);
                int j = partner(t, i);
                int foreign = 0;
                for (int k = 0; k < PER; k++) {
                    float v = m.data()[i * PER + k];
                    assertTrue(v == i + 1 || v == j + 1, "pixels come from the image or its partner");
                    foreign += v == j + 1 && j != i ? 1 : 0;
                }
                if (j != i) {
                    assertEquals((double) foreign / PER, t[j], 1e-5, "image " + i + ": the partner's label weight is its pasted area");
                    assertEquals(1 - (double) foreign / PER, t[i], 1e-5);
                    pasted += foreign > 0 ? 1 : 0;
                }
            }
        }
        assertTrue(pasted > 5, "boxes were pasted: " + pasted);
    }

    @Test
    void betaDrawsHaveTheRightMean() {
        SplittableRandom rng = new SplittableRandom(1);
        double sum = 0;
        for (int i = 0; i < 20000; i++) {
            sum += Mixing.beta(0.4, rng);
        }
        assertEquals(0.5, sum / 20000, 0.01);
    }
}
