package dev.graft.train;

/**
 * The extras around the training loop hook in here, in the spirit of fastai's callbacks: evaluation, keeping the
 * best epoch, checkpoints, the progress bar and printing. They read and may extend {@link Trainer#state()};
 * they are called in the order given.
 */
public interface TrainingListener {
    default void onStart(Trainer trainer) {
    }

    /** After each optimizer step (the step is not applied when the loss was not finite). */
    default void onBatch(Trainer trainer, BatchSource.Batch batch, float lossSum) {
    }

    /** After each epoch; the epoch's metrics are the last of {@code trainer.state().history()}. */
    default void onEpoch(Trainer trainer) {
    }

    /** A stop was requested: the run ends after this. */
    default void onStop(Trainer trainer) {
    }

    default void onEnd(Trainer trainer) {
    }
}
