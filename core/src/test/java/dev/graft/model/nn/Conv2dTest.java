package dev.graft.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A 1x1 convolution computes the same values and gradients in channels-last (a matrix product, see
 * {@link Conv2d}) as in channels-first (libtorch's convolution), for the shapes where libtorch 2.7.1's oneDNN
 * 1x1 kernel went wrong on machines that report no cache sizes (ResNet-18's 256 -> 512 downsample at 14x14).
 */
class Conv2dTest {
    static float[][] run(boolean channelsLast, int in, int out, int stride, int side) {
        try (NDManager m = Torch.newManager()) {
            m.getEngine().setRandomSeed(3);
            Layers l = new Layers(m);
            l.compute().setChannelsLast(channelsLast);
            Conv2d conv = l.conv(in, out, 1, stride, 0, 1, true);
            conv.weight().set(m.randomNormal(new Shape(out, in, 1, 1)).mul(0.05).toFloatArray());
            conv.bias().set(m.randomNormal(new Shape(out)).toFloatArray());
            NDArray x = m.randomNormal(new Shape(2, in, side, side));
            NDArray weights = m.randomNormal(new Shape(2, out, (side - 1) / stride + 1, (side - 1) / stride + 1));
            NDArray input = l.compute().input(x);
            input.setRequiresGradient(true);
            float[] y;
            try (GradientCollector gc = Torch.engine().newGradientCollector()) {
                NDArray o = conv.apply(input, true);
                y = o.toFloatArray();
                gc.backward(o.mul(weights).sum());
            }
            return new float[][] {y, input.getGradient().toFloatArray(), conv.weight().getGradient().toFloatArray(),
                    conv.bias().getGradient().toFloatArray()};
        }
    }

    static double rel(float[] want, float[] got) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < want.length; i++) {
            num += (got[i] - want[i]) * (double) (got[i] - want[i]);
            den += want[i] * (double) want[i];
        }
        return Math.sqrt(num / den);
    }

    @Test
    void pointwiseChannelsLastEqualsChannelsFirst() {
        for (int[] c : new int[][] {{256, 512, 2, 14}, {128, 512, 1, 7}, {64, 128, 2, 56}, {24, 40, 1, 9}}) {
            float[][] first = run(false, c[0], c[1], c[2], c[3]);
            float[][] last = run(true, c[0], c[1], c[2], c[3]);
            String[] what = {"output", "input gradient", "weight gradient", "bias gradient"};
            for (int i = 0; i < what.length; i++) {
                double r = rel(first[i], last[i]);
                assertTrue(r < 1e-5, java.util.Arrays.toString(c) + " " + what[i] + ": relative error " + r);
            }
        }
    }
}
