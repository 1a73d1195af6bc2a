package dev.graft.model.nn;

import ai.djl.engine.Engine;
import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;

import java.util.function.Supplier;

/**
 * The one place graft starts the engine. It runs DJL offline (without this DJL phones home at start-up, and
 * fails without a network), so users need no flag; DJL_OFFLINE or -Dai.djl.offline still override it.
 */
public final class Torch {
    static {
        if (System.getenv("DJL_OFFLINE") == null && System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        // DJL's "graph executor optimizer" profiles TorchScript modules (graft's scripted operators) for the first
        // calls; off, they run at once
        System.setProperty("ai.djl.pytorch.graph_optimizer", System.getProperty("ai.djl.pytorch.graph_optimizer", "false"));
    }

    private Torch() {
    }

    /** Sets the engine's intra-op thread count; call before the engine first starts to take effect there. */
    public static void threads(int intraOp) {
        if (intraOp > 0) {
            System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(intraOp));
            System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        }
    }

    private static volatile boolean caches;

    /** The engine, loaded on first use; oneDNN's cache sizes are repaired there where the CPU hides them ({@link OneDnnCaches}). */
    public static Engine engine() {
        Engine e = Engine.getEngine("PyTorch");
        if (!caches) {
            OneDnnCaches.state();
            caches = true;
        }
        return e;
    }

    public static NDManager newManager() {
        return engine().newBaseManager();
    }

    /**
     * A float32 tensor of {@code shape} holding {@code data[offset ..]}, in libtorch's own memory. DJL's
     * {@code create(FloatBuffer)} copies through a fresh direct buffer per call, which the JVM frees only when it
     * collects garbage: at a batch of 64 images that is 38 MB of new, page-faulted memory per call, piling up to the
     * JVM's direct-memory limit (MobileNetV2 inference at batch 64 grew 35 MB a batch, 1.0 to 2.0 GB over 30
     * batches, and a third of its batches ran at half speed). Here the tensor's storage is libtorch's allocation,
     * freed with the tensor, and the values are written into it once.
     */
    public static NDArray floats(NDManager m, float[] data, int offset, Shape shape) {
        int n = Math.toIntExact(shape.size());
        if (offset < 0 || offset + n > data.length) {
            throw new IllegalArgumentException("shape " + shape + " needs " + n + " values from " + offset + "; the array has " + data.length);
        }
        PtNDArray x = JniUtils.createEmptyNdArray((PtNDManager) m, shape, DataType.FLOAT32, Device.cpu(), SparseFormat.DENSE);
        try {
            x.toByteBuffer(true).asFloatBuffer().put(data, offset, n);
        } catch (RuntimeException e) {
            x.close();
            throw e;
        }
        return x;
    }

    /** Seeds the engine's own generator (dropout masks, stochastic depth), so a batch replays exactly on resume. */
    public static void seed(long seed) {
        engine().setRandomSeed((int) (seed ^ (seed >>> 32)));
    }

    /**
     * Runs {@code work} with autograd off on this thread. libtorch's grad mode is per thread and on by default: a
     * thread other than the one that started the engine (a web server's, a Spark executor's) would otherwise
     * record graphs while predicting and refuse in-place writes to parameters.
     */
    public static <T> T noGrad(Supplier<T> work) {
        engine(); // loads the native library before its first use here
        boolean before = JniUtils.isGradMode();
        if (before) {
            JniUtils.setGradMode(false);
        }
        try {
            return work.get();
        } finally {
            if (before) {
                JniUtils.setGradMode(true);
            }
        }
    }

    public static void noGrad(Runnable work) {
        noGrad(() -> {
            work.run();
            return null;
        });
    }
}
