package dev.graft.train;

/** The extras around the training loop (progress bar, checkpoints, printing, reports) hook in here. */
public interface TrainingListener {
    default void onStart(Trainer trainer) {
    }

    /** After each optimizer step; {@code batch} counts from 0 within the epoch. */
    default void onBatch(Trainer trainer, int epoch, int batch, int batchesPerEpoch, double runningLoss, double runningAcc) {
    }

    default void onEpoch(Trainer trainer, EpochMetrics metrics) {
    }

    default void onEnd(Trainer trainer) {
    }
}
