package dev.graft.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Stops the run when the training loss stops being a number, naming the batch and its images. */
public final class DivergenceGuard implements TrainingListener {
    private final String checkpointHint;

    /** @param checkpointHint where the last good checkpoint is (null: none) */
    public DivergenceGuard(String checkpointHint) {
        this.checkpointHint = checkpointHint;
    }

    @Override
    public int order() {
        return ORDER_GUARD;
    }

    @Override
    public void onBatch(Trainer t, BatchSource.Batch b, float lossSum) {
        if (Float.isFinite(lossSum)) {
            return;
        }
        List<String> files = new ArrayList<>();
        for (int i = 0; i < Math.min(b.size(), 8); i++) {
            files.add(t.data().describe(b.samples()[i]));
        }
        throw new DivergedException(String.format(Locale.ROOT,
                "the training loss became %s at epoch %d, batch %d: stopping (the update was not applied). Try a smaller --lr%s."
                        + " The batch held %d image(s)%s: %s", lossSum, t.progress().epoch + 1, t.progress().batch,
                checkpointHint != null ? "; the last good checkpoint is " + checkpointHint + " (resume with --resume)" : "",
                b.size(), b.size() > files.size() ? ", the first " + files.size() : "", String.join(", ", files)));
    }
}
