package dev.graft.model;

import dev.graft.data.Preprocessing;

import java.util.Locale;

/**
 * What turns a batch of images, as float NCHW, into class scores: libtorch running graft's network
 * ({@link TorchEngine}) or ONNX Runtime running its ONNX export ({@link OnnxRuntimeEngine}). The seam under
 * {@link Predictor}'s image path; safe to call from any thread.
 */
public interface InferenceEngine extends AutoCloseable {
    /** Which engine the command line and the Java API name. */
    enum Kind {
        /** libtorch for a bundle (measured faster here for most models: docs/BENCHMARKS.md), ONNX Runtime for an ONNX export. */
        AUTO,
        TORCH,
        ONNXRUNTIME;

        public static Kind parse(String s) {
            return switch (s.trim().toLowerCase(Locale.ROOT).replace("-", "").replace("_", "")) {
                case "auto" -> AUTO;
                case "torch", "pytorch", "libtorch" -> TORCH;
                case "onnxruntime", "onnx", "ort" -> ONNXRUNTIME;
                default -> throw new IllegalArgumentException("--engine must be auto, torch or onnxruntime, not '" + s + "'");
            };
        }

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** "torch" or "onnxruntime". */
    String name();

    /** One line for the console: the engine, its version and what it runs. */
    String describe();

    /**
     * What a batch must hold for this engine, given the model's preprocessing: the same resize and crop, normalised
     * as the model's preprocessing says, or (for a graph that normalises itself) plain pixels in [0, 1].
     */
    Preprocessing input(Preprocessing model);

    /** Logits, row-major (n x classes), of n images in {@link #input} form, NCHW. */
    float[] logits(float[] batch, int n);

    /** Softmax probabilities, row-major (n x classes). */
    default float[] probabilities(float[] batch, int n) {
        return softmax(logits(batch, n), n);
    }

    @Override
    void close();

    /** Row-wise softmax in float64, written back as float32. */
    static float[] softmax(float[] logits, int n) {
        int c = logits.length / Math.max(1, n);
        float[] out = new float[logits.length];
        for (int i = 0; i < n; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < c; j++) {
                max = Math.max(max, logits[i * c + j]);
            }
            double sum = 0;
            for (int j = 0; j < c; j++) {
                sum += Math.exp(logits[i * c + j] - max);
            }
            for (int j = 0; j < c; j++) {
                out[i * c + j] = (float) (Math.exp(logits[i * c + j] - max) / sum);
            }
        }
        return out;
    }
}
