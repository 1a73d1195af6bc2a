package dev.graft.train;

import dev.graft.data.BadImages;
import dev.graft.data.DataSplits;
import dev.graft.data.ImageFolder;
import dev.graft.data.Preprocessing;
import dev.graft.model.Network;

/**
 * After every epoch, accuracy on the validation images and (as the book prints it, unless a validation split
 * decides) on the test images, from their cached features when the body is frozen and cached; added to the
 * epoch's metrics.
 */
public final class EpochEvaluation implements TrainingListener {
    private final DataSplits data;
    private final Preprocessing pre;
    private final TrainOptions opts;
    private final BadImages bad;
    private final FeatureSet cachedValidation;
    private final FeatureSet cachedTest;
    private final boolean testEachEpoch;
    private Evaluation lastTest;

    public EpochEvaluation(DataSplits data, Preprocessing pre, TrainOptions opts, BadImages bad, FeatureSet cachedValidation,
                           FeatureSet cachedTest, boolean testEachEpoch) {
        this.testEachEpoch = testEachEpoch;
        this.data = data;
        this.pre = pre;
        this.opts = opts;
        this.bad = bad;
        this.cachedValidation = cachedValidation;
        this.cachedTest = cachedTest;
    }

    /**
     * With a validation split, the weights before any step are "epoch 0": the starting point every epoch is
     * compared with (with a probe head, the probe itself).
     */
    @Override
    public void onStart(Trainer t) {
        Trainer.State s = t.state();
        if (data.validation() != null && s.epoch == 0 && s.batch == 0 && s.history.isEmpty()) {
            s.history.add(new EpochMetrics(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                    Double.NaN, 0, 0, Double.NaN).withEvaluation(evaluate(t.network(), data.validation(), cachedValidation),
                    testEachEpoch ? test(t.network()) : null));
        }
    }

    @Override
    public void onEpoch(Trainer t) {
        Evaluation val = data.validation() == null ? null : evaluate(t.network(), data.validation(), cachedValidation);
        lastTest = testEachEpoch ? test(t.network()) : null;
        EpochMetrics m = t.state().last();
        t.state().history.set(t.state().history.size() - 1, m.withEvaluation(val, lastTest));
    }

    /** Test predictions of the last epoch's weights (null without test images or before the first epoch). */
    public Evaluation lastTest() {
        return lastTest;
    }

    /** Test predictions of the network as it is now. */
    public Evaluation test(Network net) {
        return data.test() == null ? null : evaluate(net, data.test(), cachedTest);
    }

    Evaluation evaluate(Network net, ImageFolder folder, FeatureSet cached) {
        return cached != null ? Evaluator.onFeatures(net, cached) : Evaluator.evaluate(net, folder, pre, opts, bad);
    }
}
