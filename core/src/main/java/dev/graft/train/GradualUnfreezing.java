package dev.graft.train;

import java.util.function.Consumer;

/**
 * fastai's fine_tune: the new head trains alone (body frozen: no gradients, BatchNorm statistics kept) for the
 * first epochs, then the whole network. Derived from the epoch, so a resumed run is in the right phase; it runs
 * before every other listener.
 */
public final class GradualUnfreezing implements TrainingListener {
    private final int frozenEpochs;
    private final Consumer<String> log;

    public GradualUnfreezing(int frozenEpochs, Consumer<String> log) {
        this.frozenEpochs = frozenEpochs;
        this.log = log;
    }

    @Override
    public int order() {
        return ORDER_PHASE;
    }

    @Override
    public void onStart(Trainer t) {
        t.network().setFrozenBody(t.progress().epoch < frozenEpochs);
        if (t.progress().epoch < frozenEpochs) {
            log.accept("the head trains alone for " + frozenEpochs + " epoch(s), then the whole network");
        }
    }

    @Override
    public void onEpoch(Trainer t) {
        if (t.progress().epoch == frozenEpochs) {
            t.network().setFrozenBody(false);
            log.accept("unfreezing the body: the whole network trains from epoch " + (frozenEpochs + 1));
        }
    }
}
