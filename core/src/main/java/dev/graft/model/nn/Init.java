package dev.graft.model.nn;

import ai.djl.nn.Parameter;

import java.util.Arrays;
import java.util.Random;

/**
 * The initialisers torch.nn.init and Keras use, for training from scratch. Values come from Java's seeded
 * generator, so a seed gives the same network every time (not the same numbers as torch's generator).
 */
public final class Init {
    private final Random rng;

    public Init(long seed) {
        this.rng = new Random(seed);
    }

    /** kaiming_normal_(mode="fan_out", nonlinearity="relu"): N(0, 2 / fan_out); fan_out = out x kh x kw. */
    public void kaimingNormalFanOut(Parameter p) {
        long[] s = shape(p);
        long fanOut = s[0] * receptive(s);
        normal(p, Math.sqrt(2.0 / fanOut));
    }

    public void normal(Parameter p, double std) {
        float[] v = new float[size(p)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rng.nextGaussian() * std);
        }
        Params.set(p, v);
    }

    /** trunc_normal_(std=std, a=-2, b=2): redrawn until inside [-2, 2] (absolute, as torch's defaults). */
    public void truncNormal(Parameter p, double std) {
        float[] v = new float[size(p)];
        for (int i = 0; i < v.length; i++) {
            double x;
            do {
                x = rng.nextGaussian() * std;
            } while (x < -2 || x > 2);
            v[i] = (float) x;
        }
        Params.set(p, v);
    }

    public void uniform(Parameter p, double bound) {
        float[] v = new float[size(p)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
        }
        Params.set(p, v);
    }

    /** xavier_uniform_ (Keras's glorot_uniform): U(+-sqrt(6 / (fan_in + fan_out))). */
    public void xavierUniform(Parameter p, double fanIn, double fanOut) {
        uniform(p, Math.sqrt(6.0 / (fanIn + fanOut)));
    }

    public void xavierUniform(Parameter p) {
        long[] s = shape(p);
        xavierUniform(p, s[1] * receptive(s), s[0] * receptive(s));
    }

    /** torch.nn.Linear's and Conv2d's default (kaiming_uniform_ with a = sqrt(5)): U(+-1/sqrt(fan_in)). */
    public void torchDefault(Parameter p, long fanIn) {
        uniform(p, 1.0 / Math.sqrt(fanIn));
    }

    public static void constant(Parameter p, float value) {
        float[] v = new float[size(p)];
        Arrays.fill(v, value);
        Params.set(p, v);
    }

    public static long[] shape(Parameter p) {
        return p.getArray().getShape().getShape();
    }

    static long receptive(long[] s) {
        long r = 1;
        for (int i = 2; i < s.length; i++) {
            r *= s[i];
        }
        return r;
    }

    static int size(Parameter p) {
        return (int) p.getArray().size();
    }
}
