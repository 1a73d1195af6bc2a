package dev.graft.train;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Predictions on an evaluation set: per sample (by index into the folder) the true label, predicted label and
 * class probabilities; plus accuracy and mean loss, and the figures people read from them (top-k accuracy,
 * per-class precision, recall and F1, the most-confused pairs, the most confident mistakes).
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

    /** Share of images whose true class is among the k most probable. */
    public double topK(int k) {
        if (size() == 0) {
            return Double.NaN;
        }
        int hit = 0;
        for (int i = 0; i < size(); i++) {
            float[] p = probabilities[i];
            int better = 0;
            for (int c = 0; c < p.length; c++) {
                if (p[c] > p[labels[i]]) {
                    better++;
                }
            }
            if (better < k) {
                hit++;
            }
        }
        return (double) hit / size();
    }

    /** One class's figures: precision (of its predictions), recall (of its images), F1, and its number of images. */
    public record ClassFigures(int index, double precision, double recall, double f1, int support) {
    }

    /** Per-class figures and their macro (plain mean) and weighted (by support) averages. */
    public record ClassReport(List<ClassFigures> classes, ClassFigures macro, ClassFigures weighted) {
    }

    public ClassReport classReport(int numClasses) {
        int[][] m = confusion(numClasses);
        List<ClassFigures> rows = new ArrayList<>();
        double[] macro = new double[3];
        double[] weighted = new double[3];
        int present = 0;
        for (int c = 0; c < numClasses; c++) {
            int tp = m[c][c];
            int predicted = 0;
            int actual = 0;
            for (int j = 0; j < numClasses; j++) {
                predicted += m[j][c];
                actual += m[c][j];
            }
            // scikit-learn's zero_division=0: a class never predicted has precision 0
            double p = predicted == 0 ? 0 : (double) tp / predicted;
            double r = actual == 0 ? Double.NaN : (double) tp / actual;
            double f1 = actual == 0 ? Double.NaN : p + r == 0 ? 0 : 2 * p * r / (p + r);
            rows.add(new ClassFigures(c, p, r, f1, actual));
            if (actual > 0) {
                present++;
                macro[0] += p;
                macro[1] += r;
                macro[2] += f1;
                weighted[0] += p * actual;
                weighted[1] += r * actual;
                weighted[2] += f1 * actual;
            }
        }
        int n = Math.max(1, size());
        int k = Math.max(1, present);
        return new ClassReport(rows, new ClassFigures(-1, macro[0] / k, macro[1] / k, macro[2] / k, size()),
                new ClassFigures(-1, weighted[0] / n, weighted[1] / n, weighted[2] / n, size()));
    }

    /** A true class, the class it was taken for, and how many times. */
    public record Confusion(int actual, int predicted, int count) {
    }

    /** The off-diagonal cells of the confusion matrix, most frequent first (at most {@code n}). */
    public List<Confusion> mostConfused(int numClasses, int n) {
        int[][] m = confusion(numClasses);
        List<Confusion> out = new ArrayList<>();
        for (int a = 0; a < numClasses; a++) {
            for (int p = 0; p < numClasses; p++) {
                if (a != p && m[a][p] > 0) {
                    out.add(new Confusion(a, p, m[a][p]));
                }
            }
        }
        out.sort(Comparator.comparingInt(Confusion::count).reversed().thenComparingInt(Confusion::actual));
        return out.subList(0, Math.min(n, out.size()));
    }

    /** Positions (into this evaluation) of the highest-loss images, mistakes made with confidence first. */
    public List<Integer> topLosses(int n) {
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < size(); i++) {
            idx.add(i);
        }
        idx.sort((a, b) -> Double.compare(lossOf(b), lossOf(a)));
        return idx.subList(0, Math.min(n, idx.size()));
    }
}
