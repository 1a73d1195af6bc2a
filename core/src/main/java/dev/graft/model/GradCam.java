package dev.graft.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.graft.model.nn.FeatureMap;
import dev.graft.model.nn.Ops;
import dev.graft.model.nn.Torch;

/**
 * Grad-CAM (Selvaraju et al., 2017): where in the photo the evidence for a class is. The last convolutional stage's
 * activations A (C channels, H x W) are weighted by the class score's gradient averaged over the map, summed over
 * channels and clipped at zero: relu(sum_c mean_hw(dy/dA_c) A_c). For a vision transformer the same is done on the
 * last block's patch tokens (channels = embedding, the 14 x 14 patch grid = the map), as pytorch-grad-cam does.
 * The map is scaled to [0, 1] per image; it covers the network's input crop.
 */
public final class GradCam {

    /** One image's map: {@code height x width} values in [0, 1], row-major, for class {@code target}. */
    public record Heat(int height, int width, float[] values, int target) {
        public float at(int y, int x) {
            return values[y * width + x];
        }

        /** The cell with the highest value, as {row, column}. */
        public int[] peak() {
            int best = 0;
            for (int i = 1; i < values.length; i++) {
                if (values[i] > values[best]) {
                    best = i;
                }
            }
            return new int[] {best / width, best % width};
        }
    }

    private GradCam() {
    }

    /** Whether Grad-CAM can look inside this network's body. */
    public static boolean supports(Network net) {
        return net.bodyLayers() instanceof FeatureMap;
    }

    /**
     * Maps for NCHW images (already transformed as for prediction), one per image, for class {@code targets[i]}
     * ({@code -1}: the predicted class). Runs with gradients on this thread only for the part after the map.
     */
    public static Heat[] maps(Network net, float[] nchw, int n, int size, int[] targets) {
        if (!(net.bodyLayers() instanceof FeatureMap body)) {
            throw new UnsupportedOperationException(net.architecture() + " has no feature map for Grad-CAM");
        }
        // gradients land on the head's parameters too: one explanation at a time per network, then cleared;
        // different networks explain in parallel
        synchronized (net) {
            try (NDManager m = net.manager().newSubManager()) {
                NDArray x = Torch.floats(m, nchw, 0, new Shape(n, 3, size, size));
                NDArray map = Torch.noGrad(() -> Ops.toFloat32(body.featureMap(net.bodyLayers().input(net.compute(), x, false), false)));
                map.setRequiresGradient(true);
                int classes = net.numClasses();
                int[] target = new int[n];
                // autograd on this thread only (libtorch's grad mode is per thread), without DJL's GradientCollector:
                // DJL allows one collector per JVM, so another network's Grad-CAM, or a training in the same JVM,
                // would make this one fail
                boolean gradMode = JniUtils.isGradMode();
                JniUtils.setGradMode(true);
                try {
                    NDArray logits = net.head(Ops.toFloat32(body.pool(map, false)), false);
                    float[] l = logits.toFloatArray();
                    float[] onehot = new float[n * classes];
                    for (int i = 0; i < n; i++) {
                        target[i] = targets != null && targets[i] >= 0 ? targets[i] : argmax(l, i * classes, classes);
                        onehot[i * classes + target[i]] = 1f;
                    }
                    NDArray score = logits.mul(m.create(onehot, new Shape(n, classes))).sum();
                    JniUtils.backward((PtNDArray) score, (PtNDArray) m.ones(score.getShape(), score.getDataType()), false, false);
                } finally {
                    JniUtils.setGradMode(gradMode);
                }
                NDArray grad = map.getGradient();
                NDArray cam;
                int h;
                int w;
                if (map.getShape().dimension() == 4) {
                    h = (int) map.getShape().get(2);
                    w = (int) map.getShape().get(3);
                    NDArray alpha = grad.mean(new int[] {3}, true).mean(new int[] {2}, true);
                    cam = map.mul(alpha).sum(new int[] {1});
                } else {
                    // tokens: drop the class token; the rest is the patch grid
                    NDArray patches = map.get(":, 1:, :");
                    NDArray alpha = grad.get(":, 1:, :").mean(new int[] {1}, true);
                    cam = patches.mul(alpha).sum(new int[] {2});
                    h = (int) Math.round(Math.sqrt(patches.getShape().get(1)));
                    w = h;
                }
                float[] v = cam.maximum(0f).toFloatArray();
                net.clearGradients();
                Heat[] out = new Heat[n];
                for (int i = 0; i < n; i++) {
                    float[] one = java.util.Arrays.copyOfRange(v, i * h * w, (i + 1) * h * w);
                    float max = 0f;
                    for (float f : one) {
                        max = Math.max(max, f);
                    }
                    if (max > 0) {
                        for (int k = 0; k < one.length; k++) {
                            one[k] /= max;
                        }
                    }
                    out[i] = new Heat(h, w, one, target[i]);
                }
                return out;
            }
        }
    }

    private static int argmax(float[] v, int from, int len) {
        int best = 0;
        for (int k = 1; k < len; k++) {
            if (v[from + k] > v[from + best]) {
                best = k;
            }
        }
        return best;
    }
}
