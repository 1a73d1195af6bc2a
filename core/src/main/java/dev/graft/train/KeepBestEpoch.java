package dev.graft.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.util.Json;
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
    private int bestEpoch = -1;
    private double bestAcc = -1;
    private double bestLoss = Double.POSITIVE_INFINITY;
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

    /** Whether these validation figures, of a trained epoch, beat (accuracy, then loss) the best so far. */
    static boolean better(EpochMetrics m, double bestAcc, double bestLoss) {
        return m.epoch() > 0 && !Double.isNaN(m.valAcc()) && (m.valAcc() > bestAcc || (m.valAcc() == bestAcc && m.valLoss() < bestLoss));
    }

    @Override
    public void onEpoch(Trainer t) {
        EpochMetrics m = t.progress().last();
        if (better(m, bestAcc, bestLoss)) {
            bestAcc = m.valAcc();
            bestLoss = m.valLoss();
            bestEpoch = m.epoch();
            best = restore ? t.network().stateDict() : null; // only a run that ends with them keeps a copy of the weights
        }
    }

    @Override
    public void onEnd(Trainer t) {
        if (restore && best != null && bestEpoch >= 0) {
            log.accept(String.format(Locale.ROOT, "keeping the weights of epoch %d (best validation accuracy %.3f, loss %.3f)",
                    bestEpoch, bestAcc, bestLoss));
            if (bestEpoch != t.progress().last().epoch()) {
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
        return bestEpoch;
    }

    public double bestAccuracy() {
        return bestAcc;
    }

    public double bestLoss() {
        return bestLoss;
    }

    @Override
    public String stateName() {
        return NAME;
    }

    @Override
    public Checkpoint.Part save() {
        ObjectNode v = Json.object().put("epoch", bestEpoch).put("accuracy", bestAcc).put("loss", bestLoss);
        return new Checkpoint.Part(v, best);
    }

    @Override
    public void restore(Checkpoint.Part p) {
        bestEpoch = p.values().path("epoch").asInt(-1);
        bestAcc = p.values().path("accuracy").asDouble(-1);
        bestLoss = p.values().path("loss").asDouble(Double.POSITIVE_INFINITY);
        best = p.tensors().size() == 0 ? null : p.tensors();
    }
}
