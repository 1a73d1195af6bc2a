package dev.graft.model;

import dev.graft.data.Preprocessing;
import dev.graft.data.RgbImage;
import dev.graft.data.Transforms;

import java.util.Arrays;
import java.util.List;

/**
 * Images to class probabilities with a network and its preprocessing: the one prediction path of the Java API,
 * evaluation, {@code predict} and {@code serve}. While it is open the network's inference weights are prepared
 * (BatchNorm folded, cast for bfloat16) and must not train. Decoded images go through an {@link InferenceEngine}
 * (libtorch on the network unless another is given, e.g. ONNX Runtime on its export); batches already
 * transformed ({@link #logits}, {@link #features}) and Grad-CAM run on the network. Safe to call from any thread.
 */
public final class Predictor implements AutoCloseable {
    private final Network net;
    private final Preprocessing preprocessing;
    private final int floats;
    private final InferenceEngine engine;
    /** libtorch on the network (null without one): normalised batches, features. */
    private final TorchEngine torch;
    /** What the engine's batches hold (the model's preprocessing, or pixels for a graph that normalises them). */
    private final Preprocessing engineInput;

    public Predictor(Network net, Preprocessing preprocessing) {
        this(net, preprocessing, null);
    }

    /**
     * @param net    the network (null for an ONNX model alone: then only the image path works)
     * @param engine what runs the image path; null: libtorch on {@code net}
     */
    public Predictor(Network net, Preprocessing preprocessing, InferenceEngine engine) {
        if (net == null && engine == null) {
            throw new IllegalArgumentException("a predictor needs a network or an engine");
        }
        this.net = net;
        this.preprocessing = preprocessing;
        this.floats = Transforms.size(preprocessing);
        if (net != null) {
            net.compute().prepareInference();
        }
        this.torch = net == null ? null : new TorchEngine(net, preprocessing.crop());
        this.engine = engine != null ? engine : torch;
        this.engineInput = this.engine.input(preprocessing);
    }

    /** The engine of the image path. */
    public InferenceEngine engine() {
        return engine;
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

    /** Softmax probabilities per image, from the engine. */
    public float[][] probabilities(List<RgbImage> images) {
        return enginePass(images, Transforms.bookTest(engineInput));
    }

    private float[][] enginePass(List<RgbImage> images, Transforms.ImageTransform t) {
        float[] data = new float[images.size() * floats];
        for (int i = 0; i < images.size(); i++) {
            t.apply(images.get(i), null, data, i * floats);
        }
        return rows(engine.probabilities(data, images.size()), images.size());
    }

    /** fastai's TTA mix: 0.75 of the augmented views' mean and 0.25 of the plain prediction (torch.lerp, beta 0.25). */
    public static final float TTA_PLAIN_SHARE = 0.25f;
    static final long TTA_SEED = 0x7A7A;

    /**
     * Test-time augmentation view {@code k} (from 0): a random resized crop keeping at least 35% of the image and a
     * random flip, drawn from a generator seeded by k alone, so every image gets the same views wherever it is
     * predicted (evaluation, predict, serve).
     */
    public static Transforms.ImageTransform ttaView(Preprocessing pre, int k) {
        Transforms.ImageTransform t = Transforms.randomResizedCrop(pre, 0.35, 1.0, 3.0 / 4.0, 4.0 / 3.0, true);
        return (img, rng, out, offset) -> t.apply(img, new java.util.SplittableRandom(dev.graft.data.Loader.mix(TTA_SEED, k, 0)), out, offset);
    }

    /** Probabilities with {@code tta} augmented views mixed in (0: plain). */
    public float[][] probabilities(List<RgbImage> images, int tta) {
        float[][] plain = probabilities(images);
        if (tta <= 0) {
            return plain;
        }
        float[][] views = new float[plain.length][plain.length == 0 ? 0 : plain[0].length];
        for (int k = 0; k < tta; k++) {
            float[][] p = enginePass(images, ttaView(engineInput, k));
            for (int i = 0; i < p.length; i++) {
                for (int c = 0; c < p[i].length; c++) {
                    views[i][c] += p[i][c] / tta;
                }
            }
        }
        return mixTta(plain, views);
    }

    /** (1 - share) x augmented mean + share x plain, per image and class. */
    public static float[][] mixTta(float[][] plain, float[][] views) {
        float[][] out = new float[plain.length][];
        for (int i = 0; i < plain.length; i++) {
            out[i] = new float[plain[i].length];
            for (int c = 0; c < out[i].length; c++) {
                out[i][c] = (1 - TTA_PLAIN_SHARE) * views[i][c] + TTA_PLAIN_SHARE * plain[i][c];
            }
        }
        return out;
    }

    public float[][] probabilities(float[] nchw, int n) {
        return rows(run(nchw, n, true, true), n);
    }

    /** Logits per image, row-major (n x classes). */
    public float[] logits(float[] nchw, int n) {
        return run(nchw, n, true, false);
    }

    /** Pooled body features of decoded images (the test transform), one row per image. */
    public float[][] features(List<RgbImage> images) {
        return rows(features(transform(images), images.size()), images.size());
    }

    /** Pooled body features per image, row-major (n x featureDim). */
    public float[] features(float[] nchw, int n) {
        return run(nchw, n, false, false);
    }

    private float[] run(float[] nchw, int n, boolean head, boolean softmax) {
        if (torch == null) {
            throw new IllegalStateException("this predictor runs an ONNX model alone; normalised batches and features need the network");
        }
        return head ? (softmax ? torch.probabilities(nchw, n) : torch.logits(nchw, n)) : torch.features(nchw, n);
    }

    static float[][] rows(float[] flat, int n) {
        int c = flat.length / Math.max(1, n);
        float[][] out = new float[n][];
        for (int i = 0; i < n; i++) {
            out[i] = Arrays.copyOfRange(flat, i * c, (i + 1) * c);
        }
        return out;
    }

    /**
     * Grad-CAM maps for decoded images, one per image, for class {@code targets[i]} (null or -1: the predicted class);
     * see {@link GradCam}. The maps cover {@link #crop} of each image.
     */
    public GradCam.Heat[] explain(List<RgbImage> images, int[] targets) {
        if (net == null) {
            throw new IllegalStateException("Grad-CAM needs graft's network: this predictor runs an ONNX model alone (use the bundle it was exported from)");
        }
        return GradCam.maps(net, transform(images), images.size(), preprocessing.crop(), targets);
    }

    /** The image as the network sees it before normalisation: resized and centre-cropped. */
    public RgbImage crop(RgbImage image) {
        return Transforms.resizeCenterCrop(image, preprocessing);
    }

    /** Back to training weights: the prepared inference weights are dropped. */
    @Override
    public void close() {
        engine.close();
        if (net != null) {
            net.compute().releaseInference();
        }
    }
}
