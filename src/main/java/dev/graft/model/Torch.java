package dev.graft.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;

/**
 * The one place graft starts the engine. It runs DJL offline (without this DJL phones home at start-up, and
 * fails without a network), so users need no flag; DJL_OFFLINE or -Dai.djl.offline still override it.
 */
public final class Torch {
    static {
        if (System.getenv("DJL_OFFLINE") == null && System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        // DJL's "graph executor optimizer" only concerns TorchScript models, which graft does not use
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

    /** Seeds the engine's own generator (dropout masks), so a batch can be replayed exactly on resume. */
    public static void seed(long seed) {
        engine().setRandomSeed((int) (seed ^ (seed >>> 32)));
    }
}
