package dev.graft.train;

import dev.graft.data.BadImages;
import dev.graft.data.DataSplits;
import dev.graft.data.ImageFolder;
import dev.graft.data.Preprocessing;
import dev.graft.model.Network;

/**
 * After every epoch, accuracy on the validation and test images (from their cached features when the body is
 * frozen and cached), added to the epoch's metrics as the book prints test accuracy per epoch.
 */
public final class EpochEvaluation implements TrainingListener {
    private final DataSplits data;
    private final Preprocessing pre;
    private final TrainOptions opts;
    private final BadImages bad;
    private final FeatureSet cachedValidation;
    private final FeatureSet cachedTest;
    private Evaluation lastTest;

    public EpochEvaluation(DataSplits data, Preprocessing pre, TrainOptions opts, BadImages bad, FeatureSet cachedValidation,
                           FeatureSet cachedTest) {
        this.data = data;
        this.pre = pre;
        this.opts = opts;
        this.bad = bad;
        this.cachedValidation = cachedValidation;
        this.cachedTest = cachedTest;
    }

    @Override
    public void onEpoch(Trainer t) {
        Evaluation val = data.validation() == null ? null : evaluate(t.network(), data.validation(), cachedValidation);
        lastTest = data.test() == null ? null : evaluate(t.network(), data.test(), cachedTest);
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
