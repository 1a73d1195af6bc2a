package dev.graft.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Writes the checkpoint at every epoch end, every {@code every} optimizer steps, and when a stop is requested;
 * never weights that went non-finite (the previous, good checkpoint stays and the run stops). A failed write is
 * reported and training goes on: the previous checkpoint is intact. Runs after every other listener, so what it
 * saves includes what they decided at the same step.
 */
public final class Checkpointing implements TrainingListener {
    private final Path file;
    private final int every;
    private final Function<Checkpoint.Snapshot, Checkpoint.State> state;
    private final Consumer<String> log;

    /**
     * Where and how often a loop is checkpointed, and the whole checkpoint around its snapshot (a single run's, or
     * the search it belongs to).
     */
    public record Target(Path file, int every, Function<Checkpoint.Snapshot, Checkpoint.State> state) {
        /** A single run's checkpoint: its snapshot as the run's, with the identity of its data and recipe. */
        public static Target single(Path file, int every, com.fasterxml.jackson.databind.JsonNode identity) {
            return new Target(file, every, snap -> Checkpoint.State.of(snap, identity));
        }
    }

    public Checkpointing(Target target, Consumer<String> log) {
        this.file = target.file();
        this.every = target.every();
        this.state = target.state();
        this.log = log;
    }

    @Override
    public int order() {
        return ORDER_CHECKPOINT;
    }

    @Override
    public void onBatch(Trainer t, BatchSource.Batch b, float lossSum) {
        Progress p = t.progress();
        boolean epochEnd = p.batch >= t.data().batchesPerEpoch();
        if (every > 0 && !epochEnd && p.step % every == 0) {
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

    /** Writes the checkpoint; false (after a warning) when the write failed (the previous one is kept). */
    boolean save(Trainer t) {
        Checkpoint.Snapshot s = t.snapshot();
        for (var e : s.params().tensors().entrySet()) {
            if (e.getValue().countNonFinite() > 0) {
                throw new DivergedException("parameter " + e.getKey() + " became NaN/Inf at epoch " + (t.progress().epoch + 1)
                        + ": stopping. Try a smaller --lr; the last good checkpoint " + file + " was kept (resume with --resume)");
            }
        }
        try {
            Checkpoint.save(file, state.apply(s));
            return true;
        } catch (IOException e) {
            log.accept("warning: " + e.getMessage());
            return false;
        }
    }
}
