package dev.graft.model;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.graft.data.Preprocessing;
import dev.graft.weights.WeightsException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * ONNX Runtime (CPU) running one of graft's ONNX exports ({@link OnnxExport}): its input is pixels in [0, 1],
 * normalised inside the graph. Sessions are safe to run from several threads at once.
 */
public final class OnnxRuntimeEngine implements InferenceEngine {
    private static final float[] ZERO = {0f, 0f, 0f};
    private static final float[] ONE = {1f, 1f, 1f};
    private static volatile int threads;

    private final OrtSession session;
    private final String source;
    private final Map<String, String> metadata;
    private final long[] inputShape;
    private final boolean hasProbabilities;

    private OnnxRuntimeEngine(OrtSession session, String source) throws OrtException {
        this.session = session;
        this.source = source;
        this.metadata = Map.copyOf(session.getMetadata().getCustomMetadata());
        NodeInfo in = session.getInputInfo().get(OnnxExport.INPUT);
        if (in == null || !(in.getInfo() instanceof TensorInfo t) || t.getShape().length != 4) {
            throw new IllegalArgumentException("has no float input '" + OnnxExport.INPUT + "' of rank 4 (inputs: " + session.getInputNames()
                    + "); graft runs the ONNX models graft export writes");
        }
        this.inputShape = t.getShape();
        if (!session.getOutputNames().contains(OnnxExport.LOGITS)) {
            throw new IllegalArgumentException("has no output '" + OnnxExport.LOGITS + "' (outputs: " + session.getOutputNames() + ")");
        }
        this.hasProbabilities = session.getOutputNames().contains(OnnxExport.PROBABILITIES);
    }

    /** Intra-op threads for sessions made from now on (0: ONNX Runtime's default, one per physical core). */
    public static void threads(int n) {
        threads = n;
    }

    private static OrtEnvironment env() {
        // warnings (initializers it folded away, and the like) are not the user's concern
        return OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, "graft");
    }

    private static OrtSession.SessionOptions options() throws OrtException {
        OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        o.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
        if (threads > 0) {
            o.setIntraOpNumThreads(threads);
        }
        o.setInterOpNumThreads(1);
        return o;
    }

    /** A graft ONNX export in memory (as {@link OnnxExport.Model#toBytes}); {@code source} says where it came from. */
    public static OnnxRuntimeEngine of(byte[] model, String source) {
        OrtSession s = null;
        try (OrtSession.SessionOptions o = options()) {
            s = env().createSession(model, o);
            return check(new OnnxRuntimeEngine(s, source));
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime rejected the model exported from " + source + ": " + firstLine(e), e);
        } catch (IllegalArgumentException e) {
            close(s);
            throw new IllegalStateException("the model exported from " + source + " " + e.getMessage(), e);
        }
    }

    /** An ONNX file written by {@code graft export --format onnx}; a file ONNX Runtime rejects gets a message naming it. */
    public static OnnxRuntimeEngine load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new WeightsException(file.toString(), "does not exist");
        }
        OrtSession s = null;
        try (OrtSession.SessionOptions o = options()) {
            s = env().createSession(file.toString(), o);
            return check(new OnnxRuntimeEngine(s, file.toString()));
        } catch (OrtException e) {
            throw new WeightsException(file.toString(), "ONNX Runtime cannot load it: " + firstLine(e));
        } catch (IllegalArgumentException e) {
            close(s);
            throw new WeightsException(file.toString(), e.getMessage());
        }
    }

    private static OnnxRuntimeEngine check(OnnxRuntimeEngine e) {
        if (!OnnxExport.FORMAT.equals(e.metadata.get("graft.format"))) {
            throw new IllegalArgumentException("is not a graft ONNX export (its metadata has no graft.format " + OnnxExport.FORMAT
                    + ", so no labels or preprocessing); graft predicts with the ONNX files graft export writes");
        }
        return e;
    }

    private static void close(OrtSession s) {
        if (s != null) {
            try {
                s.close();
            } catch (OrtException ignored) {
                // closing a session that failed its checks
            }
        }
    }

    private static String firstLine(OrtException e) {
        String m = String.valueOf(e.getMessage()).strip();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    /** The model's metadata_props (labels, preprocessing: see {@link OnnxExport#metadata}). */
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public String name() {
        return "onnxruntime";
    }

    @Override
    public String describe() {
        return "onnxruntime (ONNX Runtime " + OrtEnvironment.getEnvironment().getVersion() + ", float32, " + source + ")";
    }

    /** Pixels in [0, 1] after the same resize and crop: the graph normalises them. */
    @Override
    public Preprocessing input(Preprocessing model) {
        return model.withNormalization(ZERO, ONE);
    }

    @Override
    public float[] logits(float[] batch, int n) {
        return run(batch, n, OnnxExport.LOGITS);
    }

    @Override
    public float[] probabilities(float[] batch, int n) {
        return hasProbabilities ? run(batch, n, OnnxExport.PROBABILITIES) : InferenceEngine.softmax(logits(batch, n), n);
    }

    private float[] run(float[] batch, int n, String output) {
        long per = inputShape[1] * inputShape[2] * inputShape[3];
        FloatBuffer in = ByteBuffer.allocateDirect((int) (4 * n * per)).order(ByteOrder.nativeOrder()).asFloatBuffer();
        in.put(batch, 0, (int) (n * per)).rewind();
        try (OnnxTensor x = OnnxTensor.createTensor(env(), in, new long[] {n, inputShape[1], inputShape[2], inputShape[3]});
             OrtSession.Result r = session.run(Map.of(OnnxExport.INPUT, x), Set.of(output))) {
            FloatBuffer out = ((OnnxTensor) r.get(0)).getFloatBuffer();
            float[] values = new float[out.remaining()];
            out.get(values);
            return values;
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime failed on " + source + ": " + firstLine(e), e);
        }
    }

    @Override
    public void close() {
        close(session);
    }
}
