package dev.graft.model.nn;

import ai.djl.ndarray.NDArray;

/**
 * A body that can stop at its last feature map and finish from there: where Grad-CAM reads the activations and
 * their gradients. {@code apply(x) == pool(featureMap(x))}.
 */
public interface FeatureMap {
    /** The last convolutional stage's output (N, C, H, W); for a transformer its last block's tokens (N, 1 + H*W, D), class token first. */
    NDArray featureMap(NDArray x, boolean training);

    /** The rest of the body: feature map to pooled feature vectors (N, featureDim). Leaves {@code map} open. */
    NDArray pool(NDArray map, boolean training);

    /** {@code pool(featureMap(x))}, freeing the map. */
    static NDArray apply(FeatureMap body, NDArray x, boolean training) {
        NDArray map = body.featureMap(x, training);
        return Module.free(map, body.pool(map, training));
    }
}
