package dev.graft.model.nn;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
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

    public static Engine engine() {
        return Engine.getEngine("PyTorch");
    }

    public static NDManager newManager() {
        return engine().newBaseManager();
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
