package dev.graft.train;

import com.fasterxml.jackson.databind.JsonNode;
import dev.graft.weights.StateDict;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * Writes the checkpoint at every epoch end, every {@code every} optimizer steps, and when a stop is requested;
 * never weights that went non-finite (the previous, good checkpoint stays and the run stops). A failed write is
 * reported and training goes on: the previous checkpoint is intact.
 */
public final class Checkpointing implements TrainingListener {
    private final Path file;
    private final int every;
    private final JsonNode identity;
    private final Consumer<String> log;

    public Checkpointing(Path file, int every, JsonNode identity, Consumer<String> log) {
        this.file = file;
        this.every = every;
        this.identity = identity;
        this.log = log;
    }

    @Override
    public void onBatch(Trainer t, BatchSource.Batch b, float lossSum) {
        Trainer.State s = t.state();
        boolean epochEnd = s.batch >= t.data().batchesPerEpoch();
        if (every > 0 && !epochEnd && s.step % every == 0) {
            save(t);
        }
    }

    @Override
    public void onEpoch(Trainer t) {
        save(t);
    }

    @Override
    public void onStop(Trainer t) {
        if (save(t)) {
            log.accept("checkpoint written to " + file);
        } else {
            log.accept("the checkpoint could not be written (see the warning above); " + (java.nio.file.Files.isRegularFile(file)
                    ? "resuming from " + file + " continues from the previous checkpoint, not from this batch"
                    : "there is no checkpoint to resume from: this run must start again"));
        }
    }

    /** Writes the checkpoint; false (after a warning) when the write failed. */
    boolean save(Trainer t) {
        StateDict params = t.network().stateDict();
        for (var e : params.tensors().entrySet()) {
            if (e.getValue().countNonFinite() > 0) {
                throw new Trainer.DivergedException("parameter " + e.getKey() + " became NaN/Inf at epoch " + (t.state().epoch + 1)
                        + ": stopping. Try a smaller --lr; the last good checkpoint " + file + " was kept (resume with --resume)");
            }
        }
        try {
            Checkpoint.save(file, t.state(), params, t.optimizer().state(), identity);
            return true;
        } catch (IOException e) {
            log.accept("warning: " + e.getMessage());
            return false;
        }
    }
}
