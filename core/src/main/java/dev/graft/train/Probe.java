package dev.graft.train;

import dev.graft.data.DataSplits;
import dev.graft.model.Network;

import java.util.List;
import java.util.Locale;

/**
 * The linear probe: logistic regression on the body's pooled features, computed once; the strong, cheap
 * baseline on small data. Its regularisation is chosen by cross-validation on the training features alone.
 */
final class Probe {
    private Probe() {
    }

    /** A fitted probe head and how its lambda was chosen. */
    record Head(LinearProbe.Fit fit, LinearProbe.CrossValidation cv, double trainAccuracy) {
        String describe(int n) {
            return String.format(Locale.ROOT, "probe: logistic regression on %d feature vectors, %s, train accuracy %.3f",
                    n, cv.describe(), trainAccuracy);
        }
    }

    /**
     * Cross-validates lambda on {@code features}, then fits on all of them. Rows go in path order first, so the
     * same images give the same folds and the same probe however they were gathered.
     */
    static Head fit(FeatureSet unordered, int classes, long seed) {
        FeatureSet features = unordered.sorted();
        LinearProbe lp = new LinearProbe(classes, features.dim());
        LinearProbe.CrossValidation cv = lp.crossValidate(features, seed);
        LinearProbe.Fit fit = lp.fit(features, cv.lambda(), 500);
        return new Head(fit, cv, lp.accuracy(fit, features));
    }

    /**
     * The probe refitted on more images (every training image, after a search) at the strength cross-validation chose
     * on fewer: lambda x n kept, one fit instead of another cross-validation.
     */
    static Head refit(FeatureSet unordered, Head chosen, int classes) {
        FeatureSet features = unordered.sorted();
        LinearProbe lp = new LinearProbe(classes, features.dim());
        double lambda = chosen.cv().timesN() / features.size();
        LinearProbe.Fit fit = lp.fit(features, lambda, 500, chosen.fit());
        return new Head(fit, chosen.cv(), lp.accuracy(fit, features));
    }

    /** The probe's one "epoch" of metrics and its test predictions. */
    record Outcome(List<EpochMetrics> history, Evaluation test, String description) {
    }

    /** --mode probe: the body frozen, its features once, the head by logistic regression. */
    static Outcome run(Network net, DataSplits data, Training.Setup s, long seed, SourceFeatures features) {
        net.setFrozenBody(true);
        long t0 = System.nanoTime();
        FeatureSet tr = features.train();
        double featureSeconds = (System.nanoTime() - t0) / 1e9;
        Head h = fit(tr, net.numClasses(), seed);
        net.setHead(h.fit().weight(), h.fit().bias());
        double fitSeconds = (System.nanoTime() - t0) / 1e9 - featureSeconds;
        s.log().accept(h.describe(tr.size()));
        Evaluation valEval = data.validation() == null ? null : Evaluator.onFeatures(net, features.validation());
        Evaluation test = data.test() == null ? null : Evaluator.onFeatures(net, features.test());
        EpochMetrics m = new EpochMetrics(1, h.fit().loss(), h.trainAccuracy(), Double.NaN, Double.NaN, Double.NaN,
                tr.size() / Math.max(1e-9, featureSeconds), Double.NaN, fitSeconds, 0, 0).withEvaluation(valEval, test);
        return new Outcome(List.of(m), test, h.describe(tr.size()));
    }
}
