package dev.graft.train;

import dev.graft.data.BadImages;
import dev.graft.data.ImageFolder;
import dev.graft.data.Preprocessing;
import dev.graft.model.Network;

/**
 * After every epoch, accuracy on the validation images and (as the book prints it, unless a validation split
 * decides) on the test images, from their cached features when the body is frozen and cached; added to the
 * epoch's metrics. With a validation split, the weights before any step are "epoch 0": the starting point every
 * epoch is compared with (with a probe head, the probe itself).
 */
public final class EpochEvaluation implements TrainingListener {
    private final Training.Folders folders;
    private final boolean testEachEpoch;
    private final Preprocessing pre;
    private final TrainOptions opts;
    private final BadImages bad;
    private final FeatureSet cachedValidation;
    private final FeatureSet cachedTest;
    private Evaluation lastTest;

    EpochEvaluation(Training.Folders folders, boolean testEachEpoch, Preprocessing pre, TrainOptions opts, BadImages bad,
                    FeatureSet cachedValidation, FeatureSet cachedTest) {
        this.folders = folders;
        this.testEachEpoch = testEachEpoch;
        this.pre = pre;
        this.opts = opts;
        this.bad = bad;
        this.cachedValidation = cachedValidation;
        this.cachedTest = cachedTest;
    }

    @Override
    public int order() {
        return ORDER_EVALUATE;
    }

    @Override
    public void onStart(Trainer t) {
        Progress s = t.progress();
        if (folders.validation() != null && s.epoch == 0 && s.batch == 0 && s.history.isEmpty()) {
            s.history.add(new EpochMetrics(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                    Double.NaN, 0, 0, Double.NaN).withEvaluation(validation(t.network()), testEachEpoch ? test(t.network()) : null));
        }
    }

    @Override
    public void onEpoch(Trainer t) {
        Evaluation val = validation(t.network());
        lastTest = testEachEpoch ? test(t.network()) : null;
        Progress p = t.progress();
        p.history.set(p.history.size() - 1, p.last().withEvaluation(val, lastTest));
    }

    /** Test predictions of the last epoch's weights (null without test images, when not tested each epoch, or before the first epoch). */
    public Evaluation lastTest() {
        return lastTest;
    }

    /** Validation predictions of the network as it is now (null without a validation split). */
    public Evaluation validation(Network net) {
        return folders.validation() == null ? null : evaluate(net, folders.validation(), cachedValidation);
    }

    /** Test predictions of the network as it is now. */
    public Evaluation test(Network net) {
        return folders.test() == null ? null : evaluate(net, folders.test(), cachedTest);
    }

    Evaluation evaluate(Network net, ImageFolder folder, FeatureSet cached) {
        return cached != null ? Evaluator.onFeatures(net, cached) : Evaluator.evaluate(net, folder, pre, opts, bad);
    }
}
