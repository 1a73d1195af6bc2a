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

    /** One strided depthwise convolution's input gradient through graft's Conv2d at a precision: the same input, weights and target. */
    static float[] depthwiseGradient(Precision p, boolean channelsLast) {
        try (NDManager m = Torch.newManager()) {
            Layers l = new Layers(m);
            l.compute().setChannelsLast(channelsLast);
            l.compute().setPrecision(p);
            Conv2d conv = l.conv(48, 48, 3, 3, 2, 2, 0, 0, 1, 48, false);
            conv.weight().set(m.arange(48 * 9).toType(ai.djl.ndarray.types.DataType.FLOAT32, false).mul(0.41).sin().mul(0.3).toFloatArray());
            NDArray x = m.arange(2 * 48 * 27 * 27).toType(ai.djl.ndarray.types.DataType.FLOAT32, false).mul(0.07).cos().reshape(2, 48, 27, 27);
            x.setRequiresGradient(true);
            try (GradientCollector gc = Torch.engine().newGradientCollector()) {
                NDArray y = Ops.toFloat32(conv.apply(l.compute().input(x), true));
                NDArray t = m.arange(y.size()).toType(ai.djl.ndarray.types.DataType.FLOAT32, false).mul(0.013).sin().reshape(y.getShape());
                gc.backward(y.mul(t).sum());
            }
            return x.getGradient().toFloatArray();
        }
    }

    /**
     * Training in bfloat16 gets the input gradient of a strided depthwise convolution (MobileNet's and EfficientNet's
     * downsamplings) right: libtorch 2.7.1's bfloat16 kernel for it returned a gradient whose cosine with float32's was
     * 0.23 on the AVX512-BF16 EPYC here; graft checks the kernel once and computes those layers in float32 where it fails.
     */
    @Test
    void bfloat16TrainingOfStridedDepthwiseConvolutionsHasTheRightGradient() {
        for (boolean cl : new boolean[] {false, true}) {
            float[] want = depthwiseGradient(Precision.FP32, cl);
            float[] got = depthwiseGradient(Precision.BF16, cl);
            double r = rel(want, got);
            assertTrue(r < 0.03, "channels-last " + cl + ": bfloat16 input gradient off by " + r + " (bfloat16 rounding is about 0.01)");
        }
    }
}
