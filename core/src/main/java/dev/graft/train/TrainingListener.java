package dev.graft.train;

/**
 * The extras around the training loop hook in here, in the spirit of fastai's callbacks: evaluation, keeping the
 * best epoch, early stopping, checkpoints, the progress bar and printing. Each declares where it runs among the
 * others ({@link #order()}, lower first, as fastai's {@code order}); one that has state a resume needs implements
 * {@link Stateful} and keeps that state itself.
 */
public interface TrainingListener {
    /** Sets the phase (frozen body or not) before anything looks at the network. */
    int ORDER_PHASE = 100;
    /** Looks at each batch's loss before anything records it. */
    int ORDER_GUARD = 200;
    /** Adds validation and test figures to the epoch's metrics. */
    int ORDER_EVALUATE = 300;
    /** Reads those figures: keeping the best epoch, then early stopping. */
    int ORDER_TRACK = 400;
    /** Prints and reports (the console, progress bars, a caller's own listeners). */
    int ORDER_REPORT = 500;
    /** Saves what everything before it has decided. */
    int ORDER_CHECKPOINT = 900;

    default int order() {
        return ORDER_REPORT;
    }

    default void onStart(Trainer trainer) {
    }

    /** After each optimizer step (the step is not applied when the loss was not finite). */
    default void onBatch(Trainer trainer, BatchSource.Batch batch, float lossSum) {
    }

    /** After each epoch; the epoch's metrics are the last of {@code trainer.progress().history}. */
    default void onEpoch(Trainer trainer) {
    }

    /** A stop was requested: the run ends after this. */
    default void onStop(Trainer trainer) {
    }

    default void onEnd(Trainer trainer) {
    }

    /** A listener whose state a checkpoint holds under its name, so that a resumed run continues exactly. */
    interface Stateful {
        String stateName();

        Checkpoint.Part save();

        void restore(Checkpoint.Part part);
    }
}
