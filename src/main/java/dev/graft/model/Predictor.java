package dev.graft.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.graft.data.Preprocessing;
import dev.graft.data.RgbImage;
import dev.graft.data.Transforms;
import dev.graft.model.nn.Torch;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.List;

/**
 * Images to class probabilities with a network and its preprocessing: the one prediction path of the Java API,
 * evaluation, {@code predict} and {@code serve}. While it is open the network's inference weights are prepared
 * (BatchNorm folded, cast for bfloat16) and must not train. Safe to call from any thread.
 */
public final class Predictor implements AutoCloseable {
    private final Network net;
    private final Preprocessing preprocessing;
    private final int floats;

    public Predictor(Network net, Preprocessing preprocessing) {
        this.net = net;
        this.preprocessing = preprocessing;
        this.floats = Transforms.size(preprocessing);
        net.compute().prepareInference();
    }

    public Network network() {
        return net;
    }

    public Preprocessing preprocessing() {
        return preprocessing;
    }

    /** The test transform of decoded images, as one NCHW float batch. */
    public float[] transform(List<RgbImage> images) {
        float[] data = new float[images.size() * floats];
        Transforms.ImageTransform t = Transforms.bookTest(preprocessing);
        for (int i = 0; i < images.size(); i++) {
            t.apply(images.get(i), null, data, i * floats);
        }
        return data;
    }

    /** Softmax probabilities per image. */
    public float[][] probabilities(List<RgbImage> images) {
        return probabilities(transform(images), images.size());
    }

    public float[][] probabilities(float[] nchw, int n) {
        return rows(run(nchw, n, true, true), n);
    }

    /** Logits per image, row-major (n x classes). */
    public float[] logits(float[] nchw, int n) {
        return run(nchw, n, true, false);
    }

    /** Pooled body features per image, row-major (n x featureDim). */
    public float[] features(float[] nchw, int n) {
        return run(nchw, n, false, false);
    }

    private float[] run(float[] nchw, int n, boolean head, boolean softmax) {
        int size = preprocessing.crop();
        return Torch.noGrad(() -> {
            try (NDManager m = net.manager().newSubManager()) {
                NDArray x = m.create(FloatBuffer.wrap(nchw, 0, n * floats), new Shape(n, 3, size, size));
                NDArray out = head ? net.apply(x, false) : net.features(x, false);
                return (softmax ? out.softmax(1) : out).toFloatArray();
            }
        });
    }

    static float[][] rows(float[] flat, int n) {
        int c = flat.length / Math.max(1, n);
        float[][] out = new float[n][];
        for (int i = 0; i < n; i++) {
            out[i] = Arrays.copyOfRange(flat, i * c, (i + 1) * c);
        }
        return out;
    }

    /** Back to training weights: the prepared inference weights are dropped. */
    @Override
    public void close() {
        net.compute().releaseInference();
    }
}
