package dev.graft.check;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The class pairs the probe confuses most on the training images, from its out-of-fold predictions (each image
 * predicted by a probe that did not see it): for each unordered pair {a, b}, the images labelled a predicted b and
 * the other way round, with examples, the most confidently confused first.
 */
public final class Confusions {
    static final int EXAMPLES = 6;

    private Confusions() {
    }

    /** A confused pair: images labelled a taken for b, labelled b taken for a, and examples (image indices). */
    public record Pair(int a, int b, int aAsB, int bAsA, List<Integer> examples) {
        public int total() {
            return aAsB + bAsA;
        }
    }

    /** The out-of-fold accuracy on the training images and the {@code top} most confused pairs. */
    public record Found(double accuracy, int scored, List<Pair> pairs) {
    }

    public static Found find(CheckInput in, int top) {
        int k = in.classes().size();
        int[][] m = new int[k][k];
        List<List<Integer>> cell = new ArrayList<>();
        for (int c = 0; c < k * k; c++) {
            cell.add(new ArrayList<>());
        }
        int scored = 0;
        int correct = 0;
        int[] pred = new int[in.size()];
        for (int i = 0; i < in.size(); i++) {
            double[] p = in.probabilities(i);
            if (p == null) {
                continue;
            }
            int arg = 0;
            for (int j = 1; j < k; j++) {
                if (p[j] > p[arg]) {
                    arg = j;
                }
            }
            pred[i] = arg;
            int y = in.images().get(i).label();
            scored++;
            if (arg == y) {
                correct++;
            } else {
                m[y][arg]++;
                cell.get(y * k + arg).add(i);
            }
        }
        List<Pair> pairs = new ArrayList<>();
        for (int a = 0; a < k; a++) {
            for (int b = a + 1; b < k; b++) {
                if (m[a][b] + m[b][a] == 0) {
                    continue;
                }
                List<Integer> ex = new ArrayList<>(cell.get(a * k + b));
                ex.addAll(cell.get(b * k + a));
                ex.sort(Comparator.comparingDouble((Integer i) -> -in.probabilities(i)[pred[i]]).thenComparingInt(i -> i));
                pairs.add(new Pair(a, b, m[a][b], m[b][a], List.copyOf(ex.subList(0, Math.min(EXAMPLES, ex.size())))));
            }
        }
        pairs.sort(Comparator.comparingInt((Pair p) -> -p.total()).thenComparingInt(Pair::a).thenComparingInt(Pair::b));
        return new Found(scored == 0 ? Double.NaN : (double) correct / scored, scored, List.copyOf(pairs.subList(0, Math.min(top, pairs.size()))));
    }
}
