package dev.graft.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.graft.model.Network;
import dev.graft.model.nn.Torch;

/**
 * What a training step costs here, measured: forward and backward of a batch of the run's size on this machine and
 * network, in evaluation mode (BatchNorm's statistics untouched), gradients cleared afterwards, so nothing of the
 * run changes. Fast plans its schedule's length with it.
 */
final class StepTiming {
    private StepTiming() {
    }

    /** Seconds per training image: the faster of two timed steps after one warm-up step. */
    static double secondsPerImage(Network net, int batch, int size) {
        double best = Double.MAX_VALUE;
        try (NDManager m = net.manager().newSubManager()) {
            NDArray x = m.ones(new Shape(batch, 3, size, size)).mul(0.1f);
            for (int i = 0; i < 3; i++) {
                long t0 = System.nanoTime();
                try (NDManager step = m.newSubManager(); GradientCollector gc = Torch.engine().newGradientCollector()) {
                    // the step's arrays belong to its input's manager: attached to the step's, each step frees its own
                    // (else the three steps' activations stayed to the end, and the timed ones paid for fresh memory)
                    x.tempAttach(step);
                    NDArray y = net.apply(x, false);
                    gc.backward(y.mul(y).mean());
                }
                double s = (System.nanoTime() - t0) / 1e9;
                best = i == 0 ? best : Math.min(best, s);
            }
        }
        net.clearGradients();
        return best / batch;
    }
}
