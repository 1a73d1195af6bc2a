package dev.graft.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A resumable training state in one safetensors file, as torchvision's reference keeps one: a dict of state dicts.
 * Each training loop's {@link Snapshot} (its progress, parameters, the optimizer's state under the optimizer's
 * name, each stateful listener's state under the listener's name) is stored under a name ("run", or a search's
 * candidates), with the search's own state and what the run was trained on (classes, image files, recipe), so a
 * resume can tell when the data changed. Written to a temporary file, synced, then renamed over the old one, so a
 * crash or a full disk never leaves a half-written checkpoint.
 */
public final class Checkpoint {
    static final String FORMAT = "graft-checkpoint-2";
    static final String FORMAT_1 = "graft-checkpoint-1";

    /** The snapshot of a run that is one training loop. */
    public static final String RUN = "run";

    /** One component's state: small values as JSON, tensors by name. */
    public record Part(JsonNode values, StateDict tensors) {
        public Part {
            values = values == null ? Json.object() : values;
            tensors = tensors == null ? new StateDict("state") : tensors;
        }
    }

    /** One training loop's state. */
    public record Snapshot(Progress progress, StateDict params, String optimizer, StateDict optimizerState, Map<String, Part> listeners) {
    }

    /**
     * What a checkpoint holds: named snapshots, the state of the search that runs them (null for a single run),
     * and the identity of the data and recipe.
     */
    public record State(Map<String, Snapshot> snapshots, JsonNode search, JsonNode identity) {
        public State {
            snapshots = Map.copyOf(snapshots);
        }

        public static State of(Snapshot run, JsonNode identity) {
            return new State(Map.of(RUN, run), null, identity);
        }

        /** The snapshot of a single run. */
        public Snapshot run() {
            return snapshots.get(RUN);
        }
    }

    private Checkpoint() {
    }

    public static void save(Path file, State state) throws IOException {
        StateDict sd = new StateDict(file.toString());
        ObjectNode meta = Json.object();
        state.snapshots().forEach((name, s) -> {
            s.params().tensors().forEach((k, t) -> sd.put(name + "/param/" + k, t));
            s.optimizerState().tensors().forEach((k, t) -> sd.put(name + "/optimizer/" + k, t));
            ObjectNode m = meta.putObject(name);
            m.set("progress", Json.tree(s.progress()));
            m.put("optimizer", s.optimizer());
            ObjectNode ls = m.putObject("listeners");
            s.listeners().forEach((ln, part) -> {
                ls.set(ln, part.values());
                part.tensors().tensors().forEach((k, t) -> sd.put(name + "/listener/" + ln + "/" + k, t));
            });
        });
        sd.metadata().put("format", FORMAT);
        sd.metadata().put("snapshots", Json.compact(meta));
        if (state.search() != null) {
            sd.metadata().put("search", Json.compact(state.search()));
        }
        sd.metadata().put("identity", Json.compact(state.identity()));
        writeAtomically(file, sd);
    }

    static void writeAtomically(Path file, StateDict sd) throws IOException {
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
        String format = sd.metadata().get("format");
        String identity = sd.metadata().get("identity");
        JsonNode id = identity == null ? Json.object() : Json.MAPPER.readTree(identity);
        if (FORMAT_1.equals(format)) {
            return new State(Map.of(RUN, fromFormat1(sd)), null, id);
        }
        if (!FORMAT.equals(format)) {
            throw new IOException(file + " is not a graft checkpoint");
        }
        JsonNode meta = Json.MAPPER.readTree(sd.metadata().get("snapshots"));
        Map<String, Snapshot> snapshots = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = meta.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            JsonNode m = e.getValue();
            Map<String, Part> listeners = new LinkedHashMap<>();
            m.path("listeners").fields().forEachRemaining(l -> listeners.put(l.getKey(),
                    new Part(l.getValue(), prefixed(sd, name + "/listener/" + l.getKey() + "/"))));
            snapshots.put(name, new Snapshot(Json.MAPPER.treeToValue(m.get("progress"), Progress.class), prefixed(sd, name + "/param/"),
                    m.path("optimizer").asText(), prefixed(sd, name + "/optimizer/"), listeners));
        }
        String search = sd.metadata().get("search");
        return new State(snapshots, search == null ? null : Json.MAPPER.readTree(search), id);
    }

    /** The tensors whose names start with {@code prefix}, without it. */
    static StateDict prefixed(StateDict sd, String prefix) {
        StateDict out = new StateDict(sd.source() + " (" + prefix + ")");
        sd.tensors().forEach((k, t) -> {
            if (k.startsWith(prefix)) {
                out.put(k.substring(prefix.length()), t);
            }
        });
        return out;
    }

    /** graft 0.1's checkpoint of a single SGD run: params, momentum and the best epoch's weights at the top level. */
    static Snapshot fromFormat1(StateDict sd) throws IOException {
        JsonNode p = Json.MAPPER.readTree(sd.metadata().get("progress"));
        Progress progress = Json.MAPPER.treeToValue(((ObjectNode) p.deepCopy()).retain("epoch", "batch", "step", "lossSum", "correct",
                "seen", "seconds", "waitSeconds", "history", "stopEarly"), Progress.class);
        StateDict velocity = new StateDict(sd.source());
        prefixed(sd, "momentum/").tensors().forEach((k, t) -> velocity.put("velocity/" + k, t));
        Map<String, Part> listeners = new LinkedHashMap<>();
        ObjectNode best = Json.object();
        best.put("epoch", p.path("bestEpoch").asInt(-1));
        best.put("accuracy", p.path("bestValAcc").asDouble(-1));
        best.put("loss", p.path("bestValLoss").isNumber() ? p.path("bestValLoss").asDouble() : Double.POSITIVE_INFINITY);
        listeners.put(KeepBestEpoch.NAME, new Part(best, prefixed(sd, "best/")));
        listeners.put(EarlyStopping.NAME, new Part(best.deepCopy(), null));
        return new Snapshot(progress, prefixed(sd, "param/"), "sgd", velocity, listeners);
    }
}
