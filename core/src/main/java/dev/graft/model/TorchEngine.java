package dev.graft.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.graft.data.Preprocessing;
import dev.graft.model.nn.Torch;

/** graft's network on libtorch, with its inference weights (BatchNorm folded, cast for bfloat16) as prepared. */
final class TorchEngine implements InferenceEngine {
    private final Network net;
    private final int size;

    TorchEngine(Network net, int size) {
        this.net = net;
        this.size = size;
    }

    @Override
    public String name() {
        return "torch";
    }

    @Override
    public String describe() {
        return "torch (libtorch " + Torch.engine().getVersion() + ", " + net.compute().precision().name().toLowerCase(java.util.Locale.ROOT) + ")";
    }

    @Override
    public Preprocessing input(Preprocessing model) {
        return model;
    }

    @Override
    public float[] logits(float[] batch, int n) {
        return run(batch, n, true, false);
    }

    @Override
    public float[] probabilities(float[] batch, int n) {
        return run(batch, n, true, true);
    }

    /** Pooled body features per image, row-major (n x featureDim). */
    float[] features(float[] batch, int n) {
        return run(batch, n, false, false);
    }

    private float[] run(float[] nchw, int n, boolean head, boolean softmax) {
        return Torch.noGrad(() -> {
            try (NDManager m = net.manager().newSubManager()) {
                NDArray x = Torch.floats(m, nchw, 0, new Shape(n, 3, size, size));
                NDArray out = head ? net.apply(x, false) : net.features(x, false);
                return (softmax ? out.softmax(1) : out).toFloatArray();
            }
        });
    }

    @Override
    public void close() {
        // the network belongs to whoever made the predictor
    }
}
