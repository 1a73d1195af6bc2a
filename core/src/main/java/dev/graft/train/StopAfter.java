package dev.graft.train;

/** Ends a loop after a fixed number of epochs (the retrain, at the winner's best epoch). */
final class StopAfter implements TrainingListener {
    private final int epochs;

    StopAfter(int epochs) {
        this.epochs = epochs;
    }

    @Override
    public int order() {
        return ORDER_TRACK + 20;
    }

    @Override
    public void onStart(Trainer t) {
        if (t.progress().epoch >= epochs) {
            t.progress().stopEarly = true;
        }
    }

    @Override
    public void onEpoch(Trainer t) {
        if (t.progress().epoch >= epochs) {
            t.progress().stopEarly = true;
        }
    }
}
