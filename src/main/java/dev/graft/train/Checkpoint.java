package dev.graft.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.graft.weights.SafeTensors;
import dev.graft.weights.StateDict;
import dev.graft.weights.TensorData;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A resumable training state in one safetensors file: parameters ({@code param/...}), momentum buffers
 * ({@code momentum/...}), the best weights so far when a validation split picks the epoch ({@code best/...}),
 * and the position in the data with the epoch's running sums as JSON metadata. Written to a temporary file,
 * synced, then renamed over the old one, so a crash or a full disk never leaves a half-written checkpoint.
 */
public final class Checkpoint {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Where training stands: next epoch and batch to run, and what the current epoch has accumulated. */
    public record Progress(int epoch, int batch, long step, double lossSum, long correct, long seen, double seconds,
                           double waitSeconds, List<EpochMetrics> history, double bestValAcc, double bestValLoss,
                           int bestEpoch) {
        public static Progress start() {
            return new Progress(0, 0, 0, 0, 0, 0, 0, 0, new ArrayList<>(), -1, Double.POSITIVE_INFINITY, -1);
        }
    }

    /** What a checkpoint holds once read back. */
    public record State(Progress progress, Map<String, TensorData> params, Map<String, TensorData> momentum,
                        Map<String, TensorData> best, String recipeJson) {
    }

    private Checkpoint() {
    }

    public static void save(Path file, Progress p, StateDict params, StateDict momentum, StateDict best, Recipe recipe)
            throws IOException {
        StateDict sd = new StateDict(file.toString());
        params.tensors().forEach((k, t) -> sd.put("param/" + k, t));
        momentum.tensors().forEach((k, t) -> sd.put("momentum/" + k, t));
        if (best != null) {
            best.tensors().forEach((k, t) -> sd.put("best/" + k, t));
        }
        sd.metadata().put("format", "graft-checkpoint-1");
        sd.metadata().put("progress", JSON.writeValueAsString(p));
        sd.metadata().put("recipe", JSON.writeValueAsString(recipe));
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
        if (!"graft-checkpoint-1".equals(sd.metadata().get("format"))) {
            throw new IOException(file + " is not a graft checkpoint");
        }
        Map<String, TensorData> params = new LinkedHashMap<>();
        Map<String, TensorData> momentum = new LinkedHashMap<>();
        Map<String, TensorData> best = new LinkedHashMap<>();
        sd.tensors().forEach((k, t) -> {
            if (k.startsWith("param/")) {
                params.put(k.substring(6), t);
            } else if (k.startsWith("momentum/")) {
                momentum.put(k.substring(9), t);
            } else if (k.startsWith("best/")) {
                best.put(k.substring(5), t);
            }
        });
        Progress p = JSON.readValue(sd.metadata().get("progress"), Progress.class);
        return new State(p, params, momentum, best, sd.metadata().get("recipe"));
    }
}
