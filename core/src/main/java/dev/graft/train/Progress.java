package dev.graft.train;

import com.fasterxml.jackson.annotation.JsonIgnore;

import java.util.ArrayList;
import java.util.List;

/**
 * Where a training loop stands: the next epoch and batch, the running sums of the epoch under way, the metrics of
 * the epochs done, and whether a listener asked to stop early. Saved as it is in checkpoints.
 */
public final class Progress {
    public int epoch;
    public int batch;
    public long step;
    public double lossSum;
    public long correct;
    public long seen;
    public double seconds;
    public double waitSeconds;
    public final List<EpochMetrics> history = new ArrayList<>();
    /** Set by a listener (early stopping): no further epoch starts. */
    public boolean stopEarly;

    @JsonIgnore
    public EpochMetrics last() {
        return history.isEmpty() ? null : history.get(history.size() - 1);
    }

    /** Closes the epoch under way: its metrics into the history (at the head's rate {@code lr}), the running sums back to zero. */
    void endEpoch(double lr) {
        history.add(new EpochMetrics(epoch + 1, seen == 0 ? Double.NaN : lossSum / seen, seen == 0 ? Double.NaN : (double) correct / seen,
                Double.NaN, Double.NaN, Double.NaN, seconds > 0 ? seen / seconds : 0, Double.NaN, seconds, waitSeconds, lr));
        epoch++;
        batch = 0;
        lossSum = 0;
        correct = 0;
        seen = 0;
        seconds = 0;
        waitSeconds = 0;
    }

    public Progress copy() {
        Progress p = new Progress();
        p.copyFrom(this);
        return p;
    }

    void copyFrom(Progress o) {
        epoch = o.epoch;
        batch = o.batch;
        step = o.step;
        lossSum = o.lossSum;
        correct = o.correct;
        seen = o.seen;
        seconds = o.seconds;
        waitSeconds = o.waitSeconds;
        history.clear();
        history.addAll(o.history);
        stopEarly = o.stopEarly;
    }
}
