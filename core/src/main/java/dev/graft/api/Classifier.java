package dev.graft.api;

import ai.djl.ndarray.NDManager;
import dev.graft.data.BadImageException;
import dev.graft.data.ImageDecoder;
import dev.graft.data.Preprocessing;
import dev.graft.data.RgbImage;
import dev.graft.model.InferenceEngine;
import dev.graft.model.OnnxExport;
import dev.graft.model.OnnxRuntimeEngine;
import dev.graft.model.Predictor;
import dev.graft.model.nn.Precision;
import dev.graft.model.nn.Torch;
import dev.graft.train.Bundle;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
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
 * Safe to share between threads, and usable from any thread (web servers, Spark executors). Images run on libtorch, or
 * on ONNX Runtime ({@link #load(Path, long, Precision, InferenceEngine.Kind)}), which also runs a folder written by
 * {@code graft export --format onnx} on its own.
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

    private Classifier(NDManager manager, Bundle.Loaded b, long maxPixels, Precision precision, InferenceEngine engine) {
        this.manager = manager;
        b.net().compute().setPrecision(precision);
        // a classifier only predicts: its inference weights (BatchNorm folded) are prepared once
        this.predictor = new Predictor(b.net(), b.preprocessing(), engine);
        this.labels = List.copyOf(b.labels());
        this.decoder = new ImageDecoder(maxPixels);
    }

    /** An ONNX export on its own: labels and preprocessing from its metadata; no Grad-CAM. */
    private Classifier(OnnxRuntimeEngine engine, List<String> labels, Preprocessing pre, long maxPixels) {
        this.manager = null;
        this.predictor = new Predictor(null, pre, engine);
        this.labels = List.copyOf(labels);
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
        return load(bundle, maxPixels, precision, InferenceEngine.Kind.AUTO);
    }

    /**
     * @param model  a bundle, or a folder written by {@code graft export --format onnx} (or its model.onnx)
     * @param engine torch (libtorch, at {@code precision}), onnxruntime (float32; a bundle is exported to ONNX in
     *               memory first), or auto: torch for a bundle, ONNX Runtime for an ONNX export
     */
    public static Classifier load(Path model, long maxPixels, Precision precision, InferenceEngine.Kind engine) {
        Path onnx = Files.isRegularFile(model) && model.getFileName().toString().endsWith(".onnx") ? model : model.resolve("model.onnx");
        if (!Bundle.isBundle(model) && Files.isRegularFile(onnx)) {
            if (engine == InferenceEngine.Kind.TORCH) {
                throw new IllegalArgumentException(model + " holds an ONNX model, which runs on --engine onnxruntime; the torch engine "
                        + "needs the bundle it was exported from");
            }
            OnnxRuntimeEngine e = OnnxRuntimeEngine.load(onnx);
            try {
                return new Classifier(e, OnnxExport.labels(e.metadata()), OnnxExport.preprocessing(e.metadata()), maxPixels);
            } catch (java.io.IOException | RuntimeException ex) {
                e.close();
                throw new dev.graft.weights.WeightsException(onnx.toString(), "has unreadable graft metadata: " + ex.getMessage());
            }
        }
        return Torch.noGrad(() -> {
            NDManager m = Torch.newManager();
            InferenceEngine ort = null;
            try {
                Bundle.Loaded b = Bundle.load(model, m);
                if (engine == InferenceEngine.Kind.ONNXRUNTIME) {
                    // exported before the network's weights are prepared for libtorch (export prepares and releases its own)
                    ort = OnnxRuntimeEngine.of(OnnxExport.export(b.net(), b.preprocessing(), b.labels(), b.net().architecture(),
                            dev.graft.train.Version.VERSION).toBytes(), "exported in memory from " + model);
                }
                return new Classifier(m, b, maxPixels, precision, ort);
            } catch (RuntimeException e) {
                if (ort != null) {
                    ort.close();
                }
                m.close();
                throw e;
            }
        });
    }

    /** The engine that runs images, in one line ("onnxruntime (ONNX Runtime 1.20.0, float32, ...)"). */
    public String engine() {
        return predictor.engine().describe();
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

    /** The {@code k} most probable classes of one image's probabilities, most probable first. */
    public List<Prediction> top(float[] p, int k) {
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
        return predictor.network() != null && dev.graft.model.GradCam.supports(predictor.network());
    }

    /**
     * Grad-CAM for one image and class index ({@code -1}: the predicted class): the image as the model saw it
     * (resized, centre-cropped) with the heat map of that class's evidence over it.
     */
    public BufferedImage explain(RgbImage image, int target) {
        dev.graft.model.GradCam.Heat heat = predictor.explain(List.of(image), new int[] {target})[0];
        return dev.graft.report.HeatMaps.overlay(predictor.crop(image), heat);
    }

    /** The prediction path this classifier runs (for graft's server, which batches requests itself). */
    public Predictor predictor() {
        return predictor;
    }

    @Override
    public void close() {
        predictor.close();
        if (manager != null) {
            manager.close();
        }
    }
}
