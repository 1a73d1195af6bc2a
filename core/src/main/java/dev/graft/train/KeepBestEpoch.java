package dev.graft.train;

import dev.graft.weights.StateDict;

import java.util.Locale;
import java.util.function.Consumer;

/**
 * With a validation split: remembers the weights of the epoch with the best validation accuracy (ties: lower
 * validation loss) and ends the run with them. Epoch 0 (the weights before any step, evaluated for the curves) is
 * not a candidate: a run's result is a trained network, and where the start was the probe, the default recipe
 * compares with the probe itself.
 */
public final class KeepBestEpoch implements TrainingListener, TrainingListener.Stateful {
    static final String NAME = "best_epoch";
    private final Consumer<String> log;
    private final boolean restore;
    private final BestValidation tracker = new BestValidation();
    private StateDict best;
    private boolean restored;

    public KeepBestEpoch(Consumer<String> log) {
        this(log, true);
    }

    /** @param restore whether the run ends with the best epoch's weights (false: it only reports which epoch was best) */
    public KeepBestEpoch(Consumer<String> log, boolean restore) {
        this.log = log;
        this.restore = restore;
    }

    @Override
    public int order() {
        return ORDER_TRACK;
    }

    @Override
    public void onEpoch(Trainer t) {
        EpochMetrics m = t.progress().last();
        if (tracker.offer(m)) {
            best = restore ? t.network().stateDict() : null; // only a run that ends with them keeps a copy of the weights
        }
    }

    @Override
    public void onEnd(Trainer t) {
        if (restore && best != null && tracker.epoch >= 0) {
            log.accept(String.format(Locale.ROOT, "keeping the weights of epoch %d (best validation accuracy %.3f, loss %.3f)",
                    tracker.epoch, tracker.accuracy, tracker.loss));
            if (tracker.epoch != t.progress().last().epoch()) {
                t.network().loadAll(best);
                restored = true;
            }
        }
    }

    /** Whether the final weights are an earlier epoch's (then the last epoch's test figures are not theirs). */
    public boolean restored() {
        return restored;
    }

    /** The best epoch so far (0: before training; -1: none yet), its validation accuracy and loss. */
    public int bestEpoch() {
        return tracker.epoch;
    }

    public double bestAccuracy() {
        return tracker.accuracy;
    }

    public double bestLoss() {
        return tracker.loss;
    }

    @Override
    public String stateName() {
        return NAME;
    }

    @Override
    public Checkpoint.Part save() {
        return new Checkpoint.Part(tracker.save(), best);
    }

    @Override
    public void restore(Checkpoint.Part p) {
        tracker.restore(p.values());
        best = p.tensors().size() == 0 ? null : p.tensors();
    }
}
