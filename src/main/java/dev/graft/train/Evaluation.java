package dev.graft.train;

/**
 * Predictions on an evaluation set: per sample (by index into the folder) the true label, predicted label and
 * class probabilities; plus accuracy and mean loss.
 */
public record Evaluation(int[] samples, int[] labels, int[] predictions, float[][] probabilities, double accuracy,
                         double loss, double examplesPerSec) {

    public int size() {
        return labels.length;
    }

    /** rows: true class, columns: predicted class. */
    public int[][] confusion(int numClasses) {
        int[][] m = new int[numClasses][numClasses];
        for (int i = 0; i < labels.length; i++) {
            m[labels[i]][predictions[i]]++;
        }
        return m;
    }

    /** The cross-entropy of image {@code i}: -log p(true class). */
    public double lossOf(int i) {
        return -Math.log(Math.max(probabilities[i][labels[i]], 1e-12f));
    }
}
