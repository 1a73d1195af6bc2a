package dev.graft.train;

import java.util.Locale;
import java.util.function.Consumer;

/**
 * With a validation split: remembers the weights of the epoch with the best validation accuracy (ties: lower
 * validation loss) and ends the run with them.
 */
public final class KeepBestEpoch implements TrainingListener {
    private final Consumer<String> log;
    private boolean restored;

    public KeepBestEpoch(Consumer<String> log) {
        this.log = log;
    }

    /** Epoch 0 (the weights before training, when evaluated) is the first candidate. */
    @Override
    public void onStart(Trainer t) {
        Trainer.State s = t.state();
        if (s.bestEpoch < 0 && s.last() != null && s.last().epoch() == 0) {
            onEpoch(t);
        }
    }

    @Override
    public void onEpoch(Trainer t) {
        Trainer.State s = t.state();
        EpochMetrics m = s.last();
        if (!Double.isNaN(m.valAcc()) && (m.valAcc() > s.bestValAcc || (m.valAcc() == s.bestValAcc && m.valLoss() < s.bestValLoss))) {
            s.bestValAcc = m.valAcc();
            s.bestValLoss = m.valLoss();
            s.bestEpoch = m.epoch();
            s.best = t.network().stateDict();
        }
    }

    @Override
    public void onEnd(Trainer t) {
        Trainer.State s = t.state();
        if (s.best != null && s.bestEpoch >= 0) {
            log.accept(String.format(Locale.ROOT, "keeping the weights of epoch %d%s (best validation accuracy %.3f, loss %.3f)",
                    s.bestEpoch, s.bestEpoch == 0 ? ", before training" : "", s.bestValAcc, s.bestValLoss));
            if (s.bestEpoch != s.last().epoch()) {
                t.network().loadAll(s.best);
                restored = true;
            }
        }
    }

    /** Whether the final weights are an earlier epoch's (then the last epoch's test figures are not theirs). */
    public boolean restored() {
        return restored;
    }
}
