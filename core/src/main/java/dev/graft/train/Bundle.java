package dev.graft.train;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.data.Preprocessing;
import dev.graft.model.Architecture;
import dev.graft.model.Architectures;
import dev.graft.model.Backbone;
import dev.graft.model.KerasModel;
import dev.graft.model.Network;
import dev.graft.model.nn.Layers;
import dev.graft.util.AtomicFolder;
import dev.graft.util.Json;
import dev.graft.weights.SafeTensors;
import dev.graft.weights.StateDict;
import dev.graft.weights.WeightsException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A trained model as one folder: {@code weights.safetensors}, {@code model.json} (architecture, labels,
 * preprocessing, the recipe it was trained with, the source weights and a fingerprint of its training data),
 * {@code labels.json}, and for imported Keras models {@code topology.json}. Predict, export, serve and the Java
 * API read only this. A bundle is written beside the one it replaces and moved into place when complete
 * ({@link AtomicFolder}): a reader, or a crash at any moment, sees the old bundle or the new one, never a mix.
 */
public final class Bundle {
    public static final String FORMAT = "graft-bundle-1";

    /** A bundle loaded back: the network ready for inference, its labels and preprocessing. */
    public record Loaded(Network net, List<String> labels, Preprocessing preprocessing, JsonNode manifest) {
    }

    private Bundle() {
    }

    /** The files of a bundle (a Keras model's topology.json among them). */
    public static final List<String> FILES = List.of("model.json", "labels.json", "weights.safetensors", "topology.json");

    /** Writes the bundle of a run into {@code dir}, replacing the bundle there (if any) at once when it is complete. */
    public static void save(Path dir, FineTuning.Result r, RunConfig cfg) throws IOException {
        Path staged = AtomicFolder.stage(dir);
        writeFiles(staged, r, cfg);
        AtomicFolder.commit(dir, staged, FILES);
    }

    /**
     * Writes the bundle's files of a run into {@code folder} as they are, for a caller that commits them together with
     * other files (a run folder's metrics and report) through {@link AtomicFolder}.
     */
    public static void writeFiles(Path folder, FineTuning.Result r, RunConfig cfg) throws IOException {
        ObjectNode m = manifest(r.backbone(), r.net(), r.classes(), r.preprocessing(), r.headInit());
        m.set("recipe", Json.tree(cfg.recipe()));
        if (cfg.lrFind() != null) {
            // the recipe's lr came from the sweep (train --lr find)
            m.putObject("lr_find").put("suggested_mean_loss_lr", cfg.lrFind().suggestion()).put("recipe_lr", cfg.lrFind().recipeLr())
                    .put("steps", cfg.lrFind().steps());
        }
        m.put("precision", cfg.precision().name().toLowerCase(java.util.Locale.ROOT));
        ObjectNode d = m.putObject("data");
        d.put("root", cfg.data().toAbsolutePath().normalize().toString());
        d.put("fingerprint", r.data().train().fingerprint());
        d.put("train_size", r.data().train().size());
        d.put("validation_size", r.data().validation() == null ? 0 : r.data().validation().size());
        d.put("test_size", r.data().test() == null ? 0 : r.data().test().size());
        d.set("train_counts", Json.tree(r.data().train().countPerClass()));
        ObjectNode res = m.putObject("results");
        res.put("test_acc", r.testAcc());
        if (r.ttaEval() != null) {
            res.put("test_acc_tta", r.ttaEval().accuracy());
            res.put("tta_views", cfg.tta());
        }
        res.put("skipped_images", r.badImages().count());
        files(folder, m, r.backbone(), r.net(), r.classes());
    }

    /** What every bundle's model.json says: format, architecture, head, labels, preprocessing, source weights. */
    static ObjectNode manifest(Backbone source, Network net, List<String> labels, Preprocessing pre, String headInit) {
        ObjectNode m = Json.object();
        m.put("format", FORMAT);
        m.put("graft_version", Version.VERSION);
        m.put("created", Instant.now().toString());
        Architecture arch = source.architecture();
        m.put("model", arch.name());
        m.put("architecture", arch instanceof KerasModel ? "keras" : arch.name());
        if (arch instanceof KerasModel k) {
            m.put("classifier", k.graph().classifier());
        }
        m.put("head", net.headName());
        m.put("feature_dim", net.featureDim());
        m.put("num_classes", labels.size());
        m.set("labels", Json.tree(labels));
        m.set("preprocessing", preprocessingJson(pre));
        ObjectNode w = m.putObject("source_weights");
        w.put("path", source.source());
        w.put("sha256", source.sha256());
        w.put("head_init", headInit);
        return m;
    }

    /**
     * The bundle's files into {@code dir}: model.json, labels.json, weights.safetensors, and a Keras model's
     * topology.json; written beside the bundle there (if any), then moved into place together.
     */
    static void write(Path dir, ObjectNode manifest, Backbone source, Network net, List<String> labels) throws IOException {
        Path staged = AtomicFolder.stage(dir);
        files(staged, manifest, source, net, labels);
        AtomicFolder.commit(dir, staged, FILES);
    }

    private static void files(Path dir, ObjectNode manifest, Backbone source, Network net, List<String> labels) throws IOException {
        Files.createDirectories(dir);
        if (source.architecture() instanceof KerasModel k) {
            Json.write(dir.resolve("topology.json"), k.config());
        }
        Json.write(dir.resolve("model.json"), manifest);
        Json.write(dir.resolve("labels.json"), labels);
        StateDict sd = net.stateDict();
        sd.metadata().put("format", FORMAT);
        SafeTensors.write(sd, dir.resolve("weights.safetensors"));
    }

    /** The preprocessing as bundles record it (model.json "preprocessing"). */
    public static ObjectNode preprocessingJson(Preprocessing p) {
        ObjectNode n = Json.object();
        n.put("resize", p.resize());
        n.put("short_side", p.shortSide());
        n.put("crop", p.crop());
        n.put("interpolation", p.interpolation().name().toLowerCase(java.util.Locale.ROOT));
        ArrayNode mean = n.putArray("mean");
        for (float v : p.mean()) {
            mean.add(v);
        }
        ArrayNode std = n.putArray("std");
        for (float v : p.std()) {
            std.add(v);
        }
        return n;
    }

    /** Reads a preprocessing written by {@link #preprocessingJson}. */
    public static Preprocessing preprocessing(JsonNode n) {
        float[] mean = new float[3];
        float[] std = new float[3];
        for (int i = 0; i < 3; i++) {
            mean[i] = (float) n.path("mean").get(i).asDouble();
            std[i] = (float) n.path("std").get(i).asDouble();
        }
        return new Preprocessing(n.path("resize").asInt(), n.path("short_side").asBoolean(), n.path("crop").asInt(), mean, std,
                dev.graft.data.Resample.Filter.valueOf(n.path("interpolation").asText("bilinear").toUpperCase(java.util.Locale.ROOT)));
    }

    /** True when the folder looks like a bundle. */
    public static boolean isBundle(Path dir) {
        AtomicFolder.recover(dir);
        return Files.isRegularFile(AtomicFolder.current(dir, "model.json")) && Files.isRegularFile(AtomicFolder.current(dir, "weights.safetensors"));
    }

    public static Loaded load(Path dir, NDManager manager) {
        AtomicFolder.recover(dir); // a replacement cut short by a crash is finished first: the new bundle, whole
        Path manifest = AtomicFolder.current(dir, "model.json");
        if (!isBundle(dir)) {
            throw new WeightsException(dir.toString(), "is not a graft model bundle (needs model.json and weights.safetensors; "
                    + "train one with graft train --out DIR)");
        }
        JsonNode m;
        try {
            m = Json.read(manifest);
        } catch (IOException e) {
            throw new WeightsException(manifest.toString(), "cannot be read: " + e.getMessage());
        }
        if (!FORMAT.equals(m.path("format").asText())) {
            throw new WeightsException(manifest.toString(), "is not a " + FORMAT + " manifest");
        }
        List<String> labels = new ArrayList<>();
        m.path("labels").forEach(l -> labels.add(l.asText()));
        Preprocessing pre = preprocessing(m.path("preprocessing"));
        Architecture arch;
        if (m.path("architecture").asText().equals("keras")) {
            JsonNode topo;
            try {
                topo = Json.read(AtomicFolder.current(dir, "topology.json"));
            } catch (IOException e) {
                throw new WeightsException(dir.resolve("topology.json").toString(), "cannot be read: " + e.getMessage());
            }
            arch = KerasModel.fromTopology(m.path("model").asText("keras"), topo, m.path("classifier").asText());
        } else {
            arch = Architectures.get(m.path("architecture").asText());
        }
        Network net = new Backbone(arch, "bundle", null, null, List.of(), pre).newNetwork(labels.size(), new Layers(manager));
        net.loadAll(SafeTensors.read(AtomicFolder.current(dir, "weights.safetensors")));
        return new Loaded(net, labels, pre, m);
    }
}
