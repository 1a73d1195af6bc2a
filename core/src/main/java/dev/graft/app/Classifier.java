package dev.graft.app;

import ai.djl.ndarray.NDManager;
import dev.graft.data.BadImageException;
import dev.graft.data.ImageDecoder;
import dev.graft.data.Preprocessing;
import dev.graft.data.RgbImage;
import dev.graft.model.Predictor;
import dev.graft.model.nn.Precision;
import dev.graft.model.nn.Torch;
import dev.graft.train.Bundle;

import java.awt.image.BufferedImage;
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
 * Safe to share between threads, and usable from any thread (web servers, Spark executors).
 */
public final class Classifier implements AutoCloseable {
    /** One class and its probability. */
    public record Prediction(String label, int index, float probability) {
    }

    private final NDManager manager;
    private final Predictor predictor;
    private final List<String> labels;
    private final ImageDecoder decoder;
    private volatile int tta;

    private Classifier(NDManager manager, Bundle.Loaded b, long maxPixels, Precision precision) {
        this.manager = manager;
        b.net().compute().setPrecision(precision);
        // a classifier only predicts: its inference weights (BatchNorm folded) are prepared once
        this.predictor = new Predictor(b.net(), b.preprocessing());
        this.labels = List.copyOf(b.labels());
        this.decoder = new ImageDecoder(maxPixels);
    }

    /** Loads a bundle (the --out folder of graft train). */
    public static Classifier load(Path bundle) {
        return load(bundle, ImageDecoder.DEFAULT_MAX_PIXELS, Precision.AUTO);
    }

    /**
     * @param maxPixels largest image accepted, read from its header before decoding
     * @param precision fp32, bf16, or auto (bf16 where the CPU has native bfloat16)
     */
    public static Classifier load(Path bundle, long maxPixels, Precision precision) {
        return Torch.noGrad(() -> {
            NDManager m = Torch.newManager();
            try {
                return new Classifier(m, Bundle.load(bundle, m), maxPixels, precision);
            } catch (RuntimeException e) {
                m.close();
                throw e;
            }
        });
    }

    public List<String> labels() {
        return labels;
    }

    /** Predicts with test-time augmentation: {@code views} flipped and cropped views mixed with the plain prediction (0: off). */
    public Classifier withTta(int views) {
        this.tta = views;
        return this;
    }

    public Preprocessing preprocessing() {
        return predictor.preprocessing();
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
        return predict(List.of(RgbImage.of(image)), topK).get(0);
    }

    /** Classifies a batch of decoded images; returns the top-k per image, most probable first. */
    public List<List<Prediction>> predict(List<RgbImage> images, int topK) {
        List<List<Prediction>> out = new ArrayList<>();
        for (float[] p : probabilities(images)) {
            out.add(top(p, topK));
        }
        return out;
    }

    /** Softmax probabilities per image over {@link #labels()}. */
    public float[][] probabilities(List<RgbImage> images) {
        return predictor.probabilities(images, tta);
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

    /** Whether {@link #explain} works for this model's architecture. */
    public boolean explains() {
        return dev.graft.model.GradCam.supports(predictor.network());
    }

    /**
     * Grad-CAM for one image and class index ({@code -1}: the predicted class): the image as the model saw it
     * (resized, centre-cropped) with the heat map of that class's evidence over it.
     */
    public BufferedImage explain(RgbImage image, int target) {
        dev.graft.model.GradCam.Heat heat = predictor.explain(List.of(image), new int[] {target})[0];
        return dev.graft.report.HeatMaps.overlay(predictor.crop(image), heat);
    }

    Predictor predictor() {
        return predictor;
    }

    @Override
    public void close() {
        predictor.close();
        manager.close();
    }
}
