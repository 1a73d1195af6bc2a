package dev.graft.train;

import java.util.function.Consumer;

/** Ends training when the validation result has not improved for {@code patience} epochs (see {@link KeepBestEpoch}). */
public final class EarlyStopping implements TrainingListener {
    private final int patience;
    private final Consumer<String> log;

    public EarlyStopping(int patience, Consumer<String> log) {
        this.patience = patience;
        this.log = log;
    }

    @Override
    public void onEpoch(Trainer t) {
        Trainer.State s = t.state();
        if (patience > 0 && s.bestEpoch >= 0 && s.last().epoch() - s.bestEpoch >= patience && s.epoch < t.epochs()) {
            s.stopEarly = true;
            log.accept("no better validation result for " + patience + " epochs: stopping early");
        }
    }
}
