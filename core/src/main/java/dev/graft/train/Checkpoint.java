package dev.graft.train;

import com.fasterxml.jackson.databind.JsonNode;
import dev.graft.util.Json;
import dev.graft.weights.SafeTensors;
import dev.graft.weights.StateDict;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * A resumable training state in one safetensors file: parameters ({@code param/...}), momentum buffers
 * ({@code momentum/...}), the best weights so far when a validation split picks the epoch ({@code best/...}),
 * the position in the data with the epoch's running sums, and what the run was trained on (classes, image
 * files, recipe) so that a resume can tell when the data changed. Written to a temporary file, synced, then
 * renamed over the old one, so a crash or a full disk never leaves a half-written checkpoint.
 */
public final class Checkpoint {
    static final String FORMAT = "graft-checkpoint-1";

    /** Where training stands: next epoch and batch to run, and what the current epoch has accumulated. */
    public record Progress(int epoch, int batch, long step, double lossSum, long correct, long seen, double seconds,
                           double waitSeconds, List<EpochMetrics> history, double bestValAcc, double bestValLoss,
                           int bestEpoch, boolean stopEarly) {
        static Progress of(Trainer.State s) {
            return new Progress(s.epoch, s.batch, s.step, s.lossSum, s.correct, s.seen, s.seconds, s.waitSeconds,
                    List.copyOf(s.history), s.bestValAcc, s.bestValLoss, s.bestEpoch, s.stopEarly);
        }
    }

    /** What a checkpoint holds once read back; {@code identity} describes the data and recipe it was trained on. */
    public record State(Progress progress, StateDict params, StateDict momentum, StateDict best, JsonNode identity) {
    }

    private Checkpoint() {
    }

    public static void save(Path file, Trainer.State s, StateDict params, StateDict momentum, JsonNode identity)
            throws IOException {
        StateDict sd = new StateDict(file.toString());
        params.tensors().forEach((k, t) -> sd.put("param/" + k, t));
        momentum.tensors().forEach((k, t) -> sd.put("momentum/" + k, t));
        if (s.best != null) {
            s.best.tensors().forEach((k, t) -> sd.put("best/" + k, t));
        }
        sd.metadata().put("format", FORMAT);
        sd.metadata().put("progress", Json.compact(Progress.of(s)));
        sd.metadata().put("identity", Json.compact(identity));
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            try (OutputStream out = Files.newOutputStream(tmp)) {
                SafeTensors.write(sd, out);
            }
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw new IOException("could not write checkpoint " + file + " (" + e + "); the previous checkpoint is intact", e);
        }
    }

    public static State load(Path file) throws IOException {
        StateDict sd = SafeTensors.read(file);
        if (!FORMAT.equals(sd.metadata().get("format"))) {
            throw new IOException(file + " is not a graft checkpoint");
        }
        StateDict params = new StateDict(file + " (parameters)");
        StateDict momentum = new StateDict(file + " (momentum)");
        StateDict best = new StateDict(file + " (best weights)");
        sd.tensors().forEach((k, t) -> {
            if (k.startsWith("param/")) {
                params.put(k.substring(6), t);
            } else if (k.startsWith("momentum/")) {
                momentum.put(k.substring(9), t);
            } else if (k.startsWith("best/")) {
                best.put(k.substring(5), t);
            }
        });
        Progress p = Json.MAPPER.readValue(sd.metadata().get("progress"), Progress.class);
        String identity = sd.metadata().get("identity");
        return new State(p, params, momentum, best.size() == 0 ? null : best,
                identity == null ? Json.object() : Json.MAPPER.readTree(identity));
    }
}
