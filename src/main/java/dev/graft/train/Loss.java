package dev.graft.train;

import ai.djl.ndarray.NDArray;

/** The training loss: per-example cross-entropy, summed over the batch (the book's) or averaged. */
public record Loss(Recipe.Reduction reduction) {

    /** Per-example cross-entropy: -log softmax(logits)[label]. */
    public NDArray perExample(NDArray logits, NDArray labels) {
        NDArray logp = logits.logSoftmax(1);
        return logp.mul(labels.oneHot((int) logits.getShape().get(1))).sum(new int[] {1}).neg();
    }

    /** What backward starts from. */
    public NDArray reduce(NDArray perExample) {
        return reduction == Recipe.Reduction.SUM ? perExample.sum() : perExample.mean();
    }
}
