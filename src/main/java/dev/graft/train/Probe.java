package dev.graft.train;

import dev.graft.data.BadImages;
import dev.graft.data.DataSplits;
import dev.graft.data.Preprocessing;
import dev.graft.model.Network;

import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * The linear probe: logistic regression on the body's pooled features, computed once; the strong, cheap
 * baseline on small data. Its regularisation is picked on the validation split when there is one.
 */
final class Probe {
    static final double[] LAMBDAS = {1e-4, 1e-3, 1e-2, 1e-1};

    private Probe() {
    }

    /** The probe's one "epoch" of metrics and its test predictions. */
    record Outcome(List<EpochMetrics> history, Evaluation test) {
    }

    static Outcome fit(Network net, DataSplits data, Preprocessing pre, TrainOptions opts, BadImages bad, Consumer<String> log) {
        net.setFrozenBody(true);
        long t0 = System.nanoTime();
        FeatureSet tr = FeatureSet.compute(net, data.train(), pre, opts, bad);
        FeatureSet va = data.validation() == null ? null : FeatureSet.compute(net, data.validation(), pre, opts, bad);
        double featureSeconds = (System.nanoTime() - t0) / 1e9;
        LinearProbe lp = new LinearProbe(net.numClasses(), net.featureDim());
        LinearProbe.Fit fit;
        if (va != null && va.size() > 0) {
            LinearProbe.Fit bestFit = null;
            double bestAcc = -1;
            for (double lambda : LAMBDAS) {
                LinearProbe.Fit f = lp.fit(tr, lambda, 500);
                double acc = lp.accuracy(f, va);
                if (acc > bestAcc) {
                    bestAcc = acc;
                    bestFit = f;
                }
            }
            fit = bestFit;
            log.accept(String.format(Locale.ROOT, "probe: lambda %.0e picked on validation (accuracy %.3f)", fit.lambda(), bestAcc));
        } else {
            fit = lp.fit(tr, 1.0 / Math.max(1, tr.size()), 500);
        }
        net.setHead(fit.weight(), fit.bias());
        double fitSeconds = (System.nanoTime() - t0) / 1e9;
        Evaluation trainEval = Evaluator.onFeatures(net, tr);
        Evaluation valEval = va == null ? null : Evaluator.onFeatures(net, va);
        Evaluation test = data.test() == null ? null : Evaluator.evaluate(net, data.test(), pre, opts, bad);
        EpochMetrics m = new EpochMetrics(1, fit.loss(), trainEval.accuracy(), Double.NaN, Double.NaN, Double.NaN,
                tr.size() / Math.max(1e-9, featureSeconds), Double.NaN, fitSeconds, 0, 0).withEvaluation(valEval, test);
        log.accept(String.format(Locale.ROOT, "probe: loss %.3f, train acc %.3f, test acc %.3f (%d L-BFGS iterations)",
                fit.loss(), trainEval.accuracy(), m.testAcc(), fit.iterations()));
        return new Outcome(List.of(m), test);
    }
}
