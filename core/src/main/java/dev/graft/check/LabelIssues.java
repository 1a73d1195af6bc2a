package dev.graft.check;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Likely label errors by confident learning (Northcutt, Jiang and Chuang, "Confident Learning: Estimating Uncertainty
 * in Dataset Labels", JAIR 2021; cleanlab's {@code find_label_issues(filter_by="confident_learning")}): from
 * out-of-fold probabilities p(j | x), class j's threshold t_j is the mean probability of j over the images labelled j
 * (the class's mean self-confidence). An image is confidently of class j when p(j | x) >= t_j; among its confident
 * classes the one with the highest probability counts it in the confident joint. An image counted off the diagonal,
 * labelled i but confidently j, is a likely label error, and j is the suggestion. Issues are ranked by
 * self-confidence, p(given label | x), lowest first (cleanlab's default ranking).
 */
public final class LabelIssues {
    private LabelIssues() {
    }

    /** A likely label error: the given label, the suggested one, p(suggested | x) and p(given | x). */
    public record Issue(int image, int given, int suggested, double confidence, double selfConfidence) {
    }

    /** The per-class thresholds, the confident joint (given x confident class) and the issues, ranked. */
    public record Found(double[] thresholds, int[][] confidentJoint, List<Issue> issues, int scored) {
    }

    public static Found find(CheckInput in) {
        int k = in.classes().size();
        double[] sum = new double[k];
        int[] count = new int[k];
        int scored = 0;
        for (int i = 0; i < in.size(); i++) {
            double[] p = in.probabilities(i);
            if (p != null) {
                int y = in.images().get(i).label();
                sum[y] += p[y];
                count[y]++;
                scored++;
            }
        }
        double[] t = new double[k];
        for (int j = 0; j < k; j++) {
            // a class no training image has is never a confident suggestion
            t[j] = count[j] == 0 ? Double.POSITIVE_INFINITY : sum[j] / count[j];
        }
        int[][] joint = new int[k][k];
        List<Issue> issues = new ArrayList<>();
        for (int i = 0; i < in.size(); i++) {
            double[] p = in.probabilities(i);
            if (p == null) {
                continue;
            }
            int best = -1;
            for (int j = 0; j < k; j++) {
                // cleanlab compares with a 1e-6 slack so that a class whose images all score exactly t still counts
                if (p[j] >= t[j] - 1e-6 && (best < 0 || p[j] > p[best])) {
                    best = j;
                }
            }
            if (best < 0) {
                continue;
            }
            int y = in.images().get(i).label();
            joint[y][best]++;
            if (best != y) {
                issues.add(new Issue(i, y, best, p[best], p[y]));
            }
        }
        issues.sort(Comparator.comparingDouble(Issue::selfConfidence).thenComparing(Issue::image));
        return new Found(t, joint, issues, scored);
    }
}
