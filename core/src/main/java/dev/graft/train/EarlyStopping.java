package dev.graft.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.util.Json;

import java.util.function.Consumer;

/**
 * Ends training when the validation result (accuracy, ties broken by loss) has not improved for {@code patience}
 * epochs; it tracks the best result itself, as fastai's tracker callbacks do.
 */
public final class EarlyStopping implements TrainingListener, TrainingListener.Stateful {
    static final String NAME = "early_stopping";
    private final int patience;
    private final Consumer<String> log;
    private int bestEpoch = -1;
    private double bestAcc = -1;
    private double bestLoss = Double.POSITIVE_INFINITY;

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
        track(m);
        Progress p = t.progress();
        if (patience > 0 && bestEpoch >= 0 && m.epoch() - bestEpoch >= patience && p.epoch < t.epochs()) {
            p.stopEarly = true;
            log.accept("no better validation result for " + patience + " epochs: stopping early");
        }
    }

    private void track(EpochMetrics m) {
        if (KeepBestEpoch.better(m, bestAcc, bestLoss)) {
            bestAcc = m.valAcc();
            bestLoss = m.valLoss();
            bestEpoch = m.epoch();
        }
    }

    @Override
    public String stateName() {
        return NAME;
    }

    @Override
    public Checkpoint.Part save() {
        ObjectNode v = Json.object().put("epoch", bestEpoch).put("accuracy", bestAcc).put("loss", bestLoss);
        return new Checkpoint.Part(v, null);
    }

    @Override
    public void restore(Checkpoint.Part p) {
        bestEpoch = p.values().path("epoch").asInt(-1);
        bestAcc = p.values().path("accuracy").asDouble(-1);
        bestLoss = p.values().path("loss").asDouble(Double.POSITIVE_INFINITY);
    }
}
