package dev.graft.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * The one place graft starts the engine. It runs DJL offline (without this DJL phones home at start-up, and
 * fails without a network), so users need no flag; DJL_OFFLINE or -Dai.djl.offline still override it.
 */
public final class Torch {
    static {
        if (System.getenv("DJL_OFFLINE") == null && System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        // DJL's "graph executor optimizer" profiles TorchScript modules (graft's only one is ReLU6) for the first
        // calls; off, they run at once
        System.setProperty("ai.djl.pytorch.graph_optimizer", System.getProperty("ai.djl.pytorch.graph_optimizer", "false"));
    }

    private Torch() {
    }

    /**
     * Images go through the network in channels-last memory order (NHWC in memory, NCHW shape): libtorch's oneDNN
     * convolutions are faster on it and every layer after the first keeps the order (ResNet-18 on 2 cores:
     * training +17%, inference +28%; docs/BENCHMARKS.md). {@code -Dgraft.channels_last=false} turns it off.
     */
    public static boolean channelsLast = !"false".equals(System.getProperty("graft.channels_last"));

    /** The same values with channels-last strides; DJL exposes no memory format, so permute, copy, permute back. */
    public static NDArray channelsLast(NDArray nchw) {
        Shape s = nchw.getShape();
        if (!channelsLast || s.dimension() != 4 || s.get(1) == 1) {
            return nchw;
        }
        // reshape of the permuted view cannot be a view, so it copies into NHWC order
        NDArray nhwc = nchw.transpose(0, 2, 3, 1).reshape(s.get(0), -1).reshape(s.get(0), s.get(2), s.get(3), s.get(1));
        return nhwc.transpose(0, 3, 1, 2);
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
