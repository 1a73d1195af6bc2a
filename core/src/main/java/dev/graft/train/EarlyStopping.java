package dev.graft.train;

import java.util.function.Consumer;

/**
 * Ends training when the validation result (accuracy, ties broken by loss) has not improved for {@code patience}
 * epochs; it tracks the best result itself, as fastai's tracker callbacks do.
 */
public final class EarlyStopping implements TrainingListener, TrainingListener.Stateful {
    static final String NAME = "early_stopping";
    private final int patience;
    private final Consumer<String> log;
    private final BestValidation best = new BestValidation();

    public EarlyStopping(int patience, Consumer<String> log) {
        this.patience = patience;
        this.log = log;
    }

    @Override
    public int order() {
        return ORDER_TRACK + 10;
    }

    @Override
    public void onEpoch(Trainer t) {
        EpochMetrics m = t.progress().last();
        best.offer(m);
        Progress p = t.progress();
        if (patience > 0 && best.epoch >= 0 && m.epoch() - best.epoch >= patience && p.epoch < t.epochs()) {
            p.stopEarly = true;
            log.accept("no better validation result for " + patience + " epochs: stopping early");
        }
    }

    @Override
    public String stateName() {
        return NAME;
    }

    @Override
    public Checkpoint.Part save() {
        return new Checkpoint.Part(best.save(), null);
    }

    @Override
    public void restore(Checkpoint.Part p) {
        best.restore(p.values());
    }
}
