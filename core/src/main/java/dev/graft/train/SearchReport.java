package dev.graft.train;

import java.util.List;

/**
 * The default recipe's search as reported in the console, metrics.json and the report: its quality and time limit,
 * every entry (the probe, each fine-tune candidate, the retrain) with its validation figures and time, the
 * decision, what the winner was given afterwards, and whether the time limit cut the search short.
 */
public record SearchReport(String quality, double timeLimitSeconds, List<Entry> entries, String decision, boolean fineTuned,
                           String retrain, boolean timeRanOut, double seconds) {

    /**
     * One candidate: its id and description, how far it got, its best validation accuracy and loss, the epochs it
     * trained and its best one, its seconds, and its validation accuracy per epoch (epoch 0: the start, the probe).
     */
    public record Entry(String id, String label, String status, double valAccuracy, double valLoss, int epochs, int bestEpoch,
                        double seconds, List<Double> valAccuracyPerEpoch) {
    }
}
