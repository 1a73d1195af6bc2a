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
    /**
     * One class and its probability.
     *
     * @param label       the class name
     * @param index       the class's position among {@link #labels()}
     * @param probability softmax probability, in [0, 1]
     */
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
        if (dev.graft.model.Tuning.enabled()) {
            dev.graft.model.Tuning.apply(b.net().compute(), dev.graft.model.Tuning.tune(b.net(), b.preprocessing().crop(),
                    dev.graft.weights.Downloader.defaultCache(), true));
        }
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

    /**
     * Loads a bundle (the --out folder of graft train) on libtorch, bfloat16 where the CPU has it natively.
     *
     * @param bundle the folder
     * @return the classifier; close it to free its native memory
     */
    public static Classifier load(Path bundle) {
        return load(bundle, ImageDecoder.DEFAULT_MAX_PIXELS, Precision.AUTO);
    }

    /**
     * Loads a bundle on libtorch.
     *
     * @param bundle    the folder
     * @param maxPixels largest image accepted, read from its header before decoding
     * @param precision fp32, bf16, or auto (bf16 where the CPU has native bfloat16)
     * @return the classifier; close it to free its native memory
     */
    public static Classifier load(Path bundle, long maxPixels, Precision precision) {
        return load(bundle, maxPixels, precision, InferenceEngine.Kind.AUTO);
    }

    /**
     * Loads a bundle or an ONNX export on the engine asked for.
     *
     * @param model     a bundle, or a folder written by {@code graft export --format onnx} (or its model.onnx)
     * @param maxPixels largest image accepted, read from its header before decoding
     * @param precision fp32, bf16, or auto (libtorch only; ONNX Runtime runs float32)
     * @return the classifier; close it to free its native memory
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

    /**
     * The engine that runs images, in one line.
     *
     * @return e.g. "onnxruntime (ONNX Runtime 1.20.0, float32, ...)"
     */
    public String engine() {
        return predictor.engine().describe();
    }

    /**
     * The class names.
     *
     * @return the labels, in the order of the model's outputs
     */
    public List<String> labels() {
        return labels;
    }

    /**
     * Predicts with test-time augmentation from now on.
     *
     * @param views flipped and cropped views mixed with the plain prediction (0: off)
     * @return this classifier
     */
    public Classifier withTta(int views) {
        this.tta = views;
        return this;
    }

    /**
     * How images are prepared for the model (resize, crop, normalization), as it was trained.
     *
     * @return the model's test transform
     */
    public Preprocessing preprocessing() {
        return predictor.preprocessing();
    }

    /**
     * Decodes an image file (any format graft reads, EXIF orientation honoured).
     *
     * @param file the image file
     * @return its pixels
     * @throws BadImageException when it is not an image graft can read, or larger than the pixel limit
     */
    public RgbImage decode(Path file) throws BadImageException {
        return decoder.decode(file);
    }

    /**
     * Decodes an image from its bytes.
     *
     * @param bytes the file's bytes
     * @param name  a name for messages
     * @return its pixels
     * @throws BadImageException when it is not an image graft can read, or larger than the pixel limit
     */
    public RgbImage decode(byte[] bytes, String name) throws BadImageException {
        return decoder.decode(Path.of(name), bytes);
    }

    /**
     * Classifies an image file.
     *
     * @param image the file
     * @param topK  how many classes to return
     * @return the most probable classes, most probable first
     * @throws BadImageException when the file is not an image graft can read
     */
    public List<Prediction> predict(Path image, int topK) throws BadImageException {
        return predict(List.of(decode(image)), topK).get(0);
    }

    /**
     * Classifies an image already in memory.
     *
     * @param image the image
     * @param topK  how many classes to return
     * @return the most probable classes, most probable first
     */
    public List<Prediction> predict(BufferedImage image, int topK) {
        return predict(List.of(RgbImage.of(image)), topK).get(0);
    }

    /**
     * Classifies a batch of decoded images.
     *
     * @param images the images
     * @param topK   how many classes to return per image
     * @return the top-k per image, most probable first
     */
    public List<List<Prediction>> predict(List<RgbImage> images, int topK) {
        List<List<Prediction>> out = new ArrayList<>();
        for (float[] p : probabilities(images)) {
            out.add(top(p, topK));
        }
        return out;
    }

    /**
     * Softmax probabilities per image.
     *
     * @param images the images
     * @return one row per image over {@link #labels()}
     */
    public float[][] probabilities(List<RgbImage> images) {
        return predictor.probabilities(images, tta);
    }

    /**
     * The most probable classes of one image's probabilities.
     *
     * @param p one image's probabilities over {@link #labels()}
     * @param k how many
     * @return the top {@code k}, most probable first
     */
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

    /**
     * Whether {@link #explain} works for this model (a libtorch model whose architecture Grad-CAM supports).
     *
     * @return true when it does
     */
    public boolean explains() {
        return predictor.network() != null && dev.graft.model.GradCam.supports(predictor.network());
    }

    /**
     * Grad-CAM for one image and class index ({@code -1}: the predicted class): the image as the model saw it
     * (resized, centre-cropped) with the heat map of that class's evidence over it.
     *
     * @param image  the image
     * @param target the class index, or -1 for the predicted class
     * @return the overlay
     */
    public BufferedImage explain(RgbImage image, int target) {
        dev.graft.model.GradCam.Heat heat = predictor.explain(List.of(image), new int[] {target})[0];
        return dev.graft.report.HeatMaps.overlay(predictor.crop(image), heat);
    }

    /**
     * The prediction path this classifier runs (for graft's server, which batches requests itself).
     *
     * @return the predictor
     */
    public Predictor predictor() {
        return predictor;
    }

    /** Frees the model's native memory; the classifier cannot be used afterwards. */
    @Override
    public void close() {
        predictor.close();
        if (manager != null) {
            manager.close();
        }
    }
}
