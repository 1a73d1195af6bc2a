package dev.graft.train;

import dev.graft.data.BadImages;
import dev.graft.data.ImageFolder;
import dev.graft.data.Preprocessing;
import dev.graft.data.Transforms;
import dev.graft.model.Network;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * One training loop of a recipe, built the same way for a single run, each candidate of the default recipe's
 * search, the winner's retrain on every training image, and the learning-rate sweep: the parameter groups and the
 * optimizer the recipe names, its schedule over all the loop's steps, its loss, its batches (images through its
 * augmentation, or the source's features when the body is frozen and nothing augments) and the listeners it asks
 * for (divergence guard, evaluation, the best epoch and early stopping with a validation split, gradual
 * unfreezing, checkpoints), with the caller's own.
 */
final class Training implements AutoCloseable {
    final Trainer trainer;
    final EpochEvaluation evaluation;
    final KeepBestEpoch best;
    private final BatchSource batches;

    /** What every loop of a run shares: the preprocessing, how it executes, skipped images, the source features, the log, the stop signal. */
    record Setup(Preprocessing pre, TrainOptions opts, BadImages bad, SourceFeatures features, Consumer<String> log, StopSignal stop) {
    }

    /** The images one loop trains on, validates on (null: none) and tests on (null: none, or not each epoch). */
    record Folders(ImageFolder train, ImageFolder validation, ImageFolder test) {
    }

    private Training(Trainer trainer, EpochEvaluation evaluation, KeepBestEpoch best, BatchSource batches) {
        this.trainer = trainer;
        this.evaluation = evaluation;
        this.best = best;
        this.batches = batches;
    }

    /**
     * A loop of {@code r} on {@code net} over {@code f}; {@code checkpoint} wraps the loop's snapshot into the file's
     * whole state (null: no checkpoints) and {@code extra} are the caller's listeners.
     */
    static Training of(Recipe r, Network net, Folders f, Setup s, Checkpointing.Target checkpoint, List<TrainingListener> extra) {
        return of(r, net, f, s, checkpoint, extra, null);
    }

    /** As above, with the learning rate's factor at each step from {@code schedule} instead of the recipe's (the lr sweep's). */
    static Training of(Recipe r, Network net, Folders f, Setup s, Checkpointing.Target checkpoint, List<TrainingListener> extra,
                       LrSchedule schedule) {
        boolean scratch = r.mode() == Recipe.Mode.SCRATCH;
        ParamGroups groups = ParamGroups.of(net, r.optimization(), scratch);
        net.setFrozenBody(r.mode() == Recipe.Mode.FROZEN);
        net.compute().setBatchNormStatisticsFrozen(r.regularisation().frozenBatchNorm());
        boolean augment = r.augmentation().enabled();
        boolean cache = net.isFrozenBody() && !augment && s.opts().cacheFeatures();
        FeatureSet cachedVal = cache && f.validation() != null ? s.features().of(f.validation()) : null;
        FeatureSet cachedTest = cache && f.test() != null ? s.features().of(f.test()) : null;
        int batch = r.schedule().batchSize();
        BatchSource images;
        if (cache) {
            s.log().accept("computing body features once (frozen body, no augmentation)");
            images = BatchSource.features(s.features().of(f.train()), f.train(), batch, r.seed());
        } else {
            Transforms.ImageTransform t = augment
                    ? Transforms.randomResizedCrop(s.pre(), r.augmentation().minCropScale(), 1.0, 3.0 / 4.0, 4.0 / 3.0, true)
                    : Transforms.bookTest(s.pre());
            images = BatchSource.images(f.train(), t, s.pre(), batch, r.seed(), s.opts(), s.bad());
            if (r.schedule().freezeEpochs() > 0 && !augment && s.opts().cacheFeatures()) {
                // the head-only epochs see the same untouched features every epoch: compute them once
                images = BatchSource.phased(BatchSource.features(s.features().of(f.train()), f.train(), batch, r.seed()), images,
                        r.schedule().freezeEpochs());
            }
        }
        BatchSource batches = Mixing.of(images, r.augmentation().mixup(), r.augmentation().cutmix(), f.train().classes().size(), r.seed());
        EpochEvaluation evaluation = new EpochEvaluation(f, r.selection().testEachEpoch(), s.pre(), s.opts(), s.bad(), cachedVal, cachedTest);
        KeepBestEpoch best = new KeepBestEpoch(s.log(), r.selection().keepBestEpoch());
        List<TrainingListener> listeners = new ArrayList<>(List.of(new DivergenceGuard(checkpoint == null ? null : checkpoint.file().toString()),
                evaluation, best, new EarlyStopping(r.selection().patience(), s.log())));
        if (r.schedule().freezeEpochs() > 0) {
            listeners.add(new GradualUnfreezing(r.schedule().freezeEpochs(), s.log()));
        }
        if (checkpoint != null) {
            listeners.add(new Checkpointing(checkpoint, s.log()));
        }
        listeners.addAll(extra);
        Recipe.Regularisation reg = r.regularisation();
        Loss loss = new Loss(r.optimization().loss(), reg.labelSmoothing(),
                reg.classWeights() == Recipe.ClassWeights.BALANCED ? Loss.balanced(f.train().countPerClass()) : null);
        int epochs = r.schedule().epochs();
        LrSchedule steps = schedule != null ? schedule : LrSchedule.of(r, (long) batches.batchesPerEpoch() * epochs);
        TrainingPlan plan = new TrainingPlan(net, groups, steps, Optimizer.of(r.optimization()), loss, batches, epochs, r.seed());
        return new Training(new Trainer(plan, listeners, s.stop()), evaluation, best, batches);
    }

    /**
     * Test predictions of the final weights: the last epoch's when they belong to them, else a fresh pass (null
     * without test images).
     */
    Evaluation test() {
        return best.restored() || evaluation.lastTest() == null ? evaluation.test(trainer.network()) : evaluation.lastTest();
    }

    @Override
    public void close() {
        batches.close();
    }

}
