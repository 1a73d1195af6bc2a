package dev.graft.check;

import java.util.Locale;
import java.util.Map;

/**
 * What the data check found, with what it looked at: likely label errors, duplicate pairs, outliers, the most
 * confused class pairs, the near-duplicate threshold used, and the seconds per detector (features not included).
 */
public record CheckResult(CheckInput input, LabelIssues.Found labels, Duplicates.Found duplicates, Outliers.Found outliers,
                          Confusions.Found confusions, double nearThreshold, Map<String, Double> stageSeconds, double seconds) {

    public long count(Duplicates.Scope scope) {
        return duplicates.pairs().stream().filter(p -> p.scope() == scope).count();
    }

    public long exact(Duplicates.Scope scope) {
        return duplicates.pairs().stream().filter(p -> p.scope() == scope && p.kind() != Duplicates.Kind.NEAR).count();
    }

    /** One line for the console. */
    public String summary() {
        StringBuilder sb = new StringBuilder("data check: ");
        if (input.hasProbabilities()) {
            sb.append(labels.issues().size()).append(" likely label error(s), ");
        }
        sb.append(String.format(Locale.ROOT, "%d train/test duplicate pair(s) (%d exact), %d within training (%d exact), %d within test (%d exact)",
                count(Duplicates.Scope.ACROSS), exact(Duplicates.Scope.ACROSS), count(Duplicates.Scope.TRAIN), exact(Duplicates.Scope.TRAIN),
                count(Duplicates.Scope.TEST), exact(Duplicates.Scope.TEST)));
        if (duplicates.notListed() > 0) {
            sb.append(" and ").append(duplicates.notListed()).append(" more pair(s) not listed");
        }
        if (input.features() != null) {
            long blank = outliers.outliers().stream().filter(Outliers.Outlier::blank).count();
            sb.append(String.format(Locale.ROOT, ", %d outlier(s) (%d blank)", outliers.outliers().size(), blank));
        } else {
            sb.append(" (exact duplicates only: no features)");
        }
        if (input.hasProbabilities()) {
            sb.append(String.format(Locale.ROOT, "; probe out-of-fold accuracy %.3f", confusions.accuracy()));
        }
        return sb.append(String.format(Locale.ROOT, "; %.1f s", seconds)).toString();
    }
}
