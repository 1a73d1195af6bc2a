package dev.graft.app;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dev.graft.data.BadImageException;
import dev.graft.data.ImageDecoder;
import dev.graft.data.Preprocessing;
import dev.graft.data.RgbImage;
import dev.graft.data.Transforms;
import dev.graft.model.Network;
import dev.graft.model.Torch;
import dev.graft.train.Bundle;

import java.awt.image.BufferedImage;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * graft from Java: load a trained model bundle and classify images with the model's own test transform.
 *
 * <pre>{@code
 * try (Classifier c = Classifier.load(Path.of("runs/finetune"))) {
 *     for (Classifier.Prediction p : c.predict(Path.of("photo.jpg"), 3)) {
 *         System.out.println(p.label() + " " + p.probability());
 *     }
 * }
 * }</pre>
 * Safe to share between threads.
 */
public final class Classifier implements AutoCloseable {
    /** One class and its probability. */
    public record Prediction(String label, int index, float probability) {
    }

    private final NDManager manager;
    private final Network net;
    private final List<String> labels;
    private final Preprocessing preprocessing;
    private final ImageDecoder decoder;

    private Classifier(NDManager manager, Bundle.Loaded b, long maxPixels) {
        this.manager = manager;
        this.net = b.net();
        // a classifier only predicts: BatchNorm folded into the convolutions once (MobileNet inference +24%)
        this.net.foldBatchNorm();
        this.labels = List.copyOf(b.labels());
        this.preprocessing = b.preprocessing();
        this.decoder = new ImageDecoder(maxPixels);
    }

    /** Loads a bundle (the --out folder of graft train). */
    public static Classifier load(Path bundle) {
        return load(bundle, ImageDecoder.DEFAULT_MAX_PIXELS);
    }

    public static Classifier load(Path bundle, long maxPixels) {
        NDManager m = Torch.newManager();
        try {
            return new Classifier(m, Bundle.load(bundle, m), maxPixels);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    public List<String> labels() {
        return labels;
    }

    public Preprocessing preprocessing() {
        return preprocessing;
    }

    /** Decodes an image file (any format graft reads, EXIF orientation honoured). */
    public RgbImage decode(Path file) throws BadImageException {
        return decoder.decode(file);
    }

    public RgbImage decode(byte[] bytes, String name) throws BadImageException {
        return decoder.decode(Path.of(name), bytes);
    }

    public List<Prediction> predict(Path image, int topK) throws BadImageException {
        return predict(List.of(decode(image)), topK).get(0);
    }

    public List<Prediction> predict(BufferedImage image, int topK) {
        int w = image.getWidth();
        int h = image.getHeight();
        byte[] rgb = new byte[w * h * 3];
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            image.getRGB(0, y, w, 1, row, 0, w);
            for (int x = 0; x < w; x++) {
                rgb[(y * w + x) * 3] = (byte) (row[x] >> 16);
                rgb[(y * w + x) * 3 + 1] = (byte) (row[x] >> 8);
                rgb[(y * w + x) * 3 + 2] = (byte) row[x];
            }
        }
        return predict(List.of(new RgbImage(w, h, rgb)), topK).get(0);
    }

    /** Classifies a batch of decoded images; returns the top-k per image, most probable first. */
    public List<List<Prediction>> predict(List<RgbImage> images, int topK) {
        float[][] probs = probabilities(images);
        List<List<Prediction>> out = new ArrayList<>();
        for (float[] p : probs) {
            out.add(top(p, topK));
        }
        return out;
    }

    /** Softmax probabilities per image over {@link #labels()}. */
    public float[][] probabilities(List<RgbImage> images) {
        int floats = Transforms.size(preprocessing);
        float[] data = new float[images.size() * floats];
        for (int i = 0; i < images.size(); i++) {
            Transforms.bookTest(preprocessing).apply(images.get(i), null, data, i * floats);
        }
        return probabilities(data, images.size());
    }

    /** Probabilities for already-transformed NCHW input. */
    public float[][] probabilities(float[] nchw, int n) {
        int c = labels.size();
        float[] p;
        try (NDManager m = manager.newSubManager()) {
            NDArray x = m.create(FloatBuffer.wrap(nchw, 0, n * Transforms.size(preprocessing)),
                    new Shape(n, 3, preprocessing.crop(), preprocessing.crop()));
            p = net.forward(new ParameterStore(m, false), new NDList(x), false).singletonOrThrow().softmax(1).toFloatArray();
        }
        float[][] out = new float[n][];
        for (int i = 0; i < n; i++) {
            out[i] = Arrays.copyOfRange(p, i * c, (i + 1) * c);
        }
        return out;
    }

    List<Prediction> top(float[] p, int k) {
        Integer[] idx = new Integer[p.length];
        for (int i = 0; i < p.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, (a, b) -> Float.compare(p[b], p[a]));
        List<Prediction> out = new ArrayList<>();
        for (int i = 0; i < Math.min(k, p.length); i++) {
            out.add(new Prediction(labels.get(idx[i]), idx[i], p[idx[i]]));
        }
        return out;
    }

    Network network() {
        return net;
    }

    @Override
    public void close() {
        manager.close();
    }
}
