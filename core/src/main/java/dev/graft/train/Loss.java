package dev.graft.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * The training loss: cross-entropy against target distributions (one-hot labels, or MixUp/CutMix mixtures),
 * optionally smoothed (label smoothing) and weighted by class (balanced class weights); per-example losses summed
 * over the batch (the book's) or averaged (torch's mean, divided by the examples' total weight when classes are
 * weighted).
 *
 * @param classWeights per-class weights, or null for none
 */
public record Loss(Recipe.Reduction reduction, double labelSmoothing, float[] classWeights) {

    public Loss(Recipe.Reduction reduction) {
        this(reduction, 0, null);
    }

    /** Balanced weights n / (classes x count) of these per-class counts (classes without images weigh 0). */
    public static float[] balanced(int[] counts) {
        int n = 0;
        for (int c : counts) {
            n += c;
        }
        float[] w = new float[counts.length];
        for (int c = 0; c < counts.length; c++) {
            w[c] = counts[c] == 0 ? 0f : (float) n / (counts.length * counts[c]);
        }
        return w;
    }

    /**
     * Per-example loss and weight: -sum_c t_c log softmax(logits)_c with t the (smoothed) targets, times the
     * target's class weight sum_c t_c w_c. Returns {losses, weights} (weights null when unweighted).
     */
    public NDArray[] perExample(NDArray logits, NDArray targets) {
        long classes = logits.getShape().get(1);
        NDArray t = labelSmoothing > 0 ? targets.mul(1 - labelSmoothing).add(labelSmoothing / classes) : targets;
        NDArray loss = logits.logSoftmax(1).mul(t).sum(new int[] {1}).neg();
        if (classWeights == null) {
            return new NDArray[] {loss, null};
        }
        NDArray w = targets.matMul(targets.getManager().create(classWeights, new Shape(classes, 1))).reshape(-1);
        return new NDArray[] {loss.mul(w), w};
    }

    /** What backward starts from. */
    public NDArray reduce(NDArray[] perExample) {
        if (reduction == Recipe.Reduction.SUM) {
            return perExample[0].sum();
        }
        return perExample[1] == null ? perExample[0].mean() : perExample[0].sum().div(perExample[1].sum());
    }
}
