package dev.graft.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.graft.data.Preprocessing;
import dev.graft.weights.Checksum;
import dev.graft.weights.DownloadException;
import dev.graft.weights.KerasH5;
import dev.graft.weights.Downloader;
import dev.graft.weights.PthReader;
import dev.graft.weights.SafeTensors;
import dev.graft.weights.StateDict;
import dev.graft.weights.TensorData;
import dev.graft.weights.TfjsLayers;
import dev.graft.weights.WeightsException;
import dev.graft.weights.WeightsSpec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * The book's source model: an architecture with its pretrained weights, its preprocessing and its classifier.
 * It makes target networks: every layer and parameter copied but the output layer, which is new.
 */
public final class Backbone {
    private final WeightsSpec spec;
    private final String source;
    private final StateDict body;
    private final KerasGraph.SourceClassifier classifier;
    private final List<String> sourceLabels;
    private final KerasGraph.Graph graph;
    private final JsonNode kerasConfig;
    private final Preprocessing preprocessing;

    private Backbone(WeightsSpec spec, String source, StateDict body, KerasGraph.SourceClassifier classifier,
                     List<String> sourceLabels, KerasGraph.Graph graph, JsonNode kerasConfig, Preprocessing preprocessing) {
        this.spec = spec;
        this.source = source;
        this.body = body;
        this.classifier = classifier;
        this.sourceLabels = sourceLabels;
        this.graph = graph;
        this.kerasConfig = kerasConfig;
        this.preprocessing = preprocessing;
    }

    /**
     * Loads a source model.
     *
     * @param spec        the zoo entry (or a generic "keras" one)
     * @param weightsFile a local file to use instead of downloading (null: the zoo's cached download)
     * @param needWeights false for training from scratch: a ResNet then needs no file at all
     */
    public static Backbone load(WeightsSpec spec, Path weightsFile, Downloader downloader, boolean needWeights,
                                Preprocessing preprocessing, Consumer<String> log) {
        Preprocessing pre = preprocessing != null ? preprocessing : spec.preprocessing();
        boolean keras = spec.architecture().equals("keras");
        if (!keras && !needWeights && weightsFile == null) {
            return new Backbone(spec, "random init", null, null, List.of(), null, null, pre);
        }
        Path file = weightsFile != null ? weightsFile : fetch(spec, downloader, log);
        WeightsSpec.Format format = weightsFile != null ? WeightsSpec.Format.of(weightsFile) : spec.format();
        if (keras || format == WeightsSpec.Format.TFJS || format == WeightsSpec.Format.H5) {
            JsonNode config;
            StateDict raw;
            List<String> labels;
            if (format == WeightsSpec.Format.H5) {
                KerasH5.Model m = KerasH5.read(file);
                config = m.modelConfig() != null ? m.modelConfig() : applicationGraph(spec, file);
                raw = m.weights();
                labels = config == m.modelConfig() ? List.of() : imagenetLabels();
            } else if (format == WeightsSpec.Format.TFJS) {
                TfjsLayers.Model m = TfjsLayers.read(file);
                config = m.modelConfig();
                raw = m.weights();
                labels = m.labels();
            } else {
                throw new WeightsException(file.toString(), "is not a Keras model (TF.js model.json or .h5), which --model "
                        + spec.name() + " needs");
            }
            KerasGraph.Graph g = KerasGraph.parse(config, spec.classifier(), file.toString());
            log.accept("imported Keras graph from " + file + ": " + KerasGraph.summary(g));
            warnNonFinite(raw, log);
            KerasGraph.SourceClassifier c = KerasGraph.sourceClassifier(g, raw);
            StateDict sd = KerasGraph.toGraftLayout(g, raw);
            return new Backbone(spec, file.toString(), sd, c, labels, g, config, pre);
        }
        StateDict sd = format == WeightsSpec.Format.SAFETENSORS ? SafeTensors.read(file) : PthReader.read(file);
        warnNonFinite(sd, log);
        String prefix = spec.classifier();
        KerasGraph.SourceClassifier c = null;
        TensorData w = sd.get(prefix + "weight");
        if (w != null && w.shape().length == 2) {
            TensorData b = sd.get(prefix + "bias");
            c = new KerasGraph.SourceClassifier(w.toFloats(), b == null ? new float[(int) w.shape()[0]] : b.toFloats(),
                    (int) w.shape()[0], (int) w.shape()[1]);
        }
        List<String> labels = c != null && c.classes() == 1000 && "imagenet".equals(spec.labels()) ? imagenetLabels() : List.of();
        return new Backbone(spec, file.toString(), sd, c, labels, null, null, pre);
    }

    /** The graph for a weights-only Keras Applications file, from the zoo name (mobilenet_v1_ALPHA). */
    static JsonNode applicationGraph(WeightsSpec spec, Path file) {
        if (spec.name().startsWith("mobilenet_v1_")) {
            return KerasApplications.mobilenetV1(Double.parseDouble(spec.name().substring("mobilenet_v1_".length())), 224);
        }
        throw new WeightsException(file.toString(), "holds weights only (no model_config); graft knows the graph for "
                + "--model mobilenet_v1_<alpha>, otherwise save the whole model with model.save(...) so the file carries its graph");
    }

    /** Rebuilds the source of a saved Keras model from its topology (weights come from the bundle). */
    public static Backbone forKerasTopology(WeightsSpec spec, JsonNode config, String classifier, Preprocessing pre) {
        KerasGraph.Graph g = KerasGraph.parse(config, classifier, "bundle topology");
        return new Backbone(spec, "bundle", null, null, List.of(), g, config, pre);
    }

    private static Path fetch(WeightsSpec spec, Downloader dl, Consumer<String> log) {
        if (spec.url() == null || spec.url().isEmpty()) {
            throw new IllegalArgumentException("model '" + spec.name() + "' has no download; pass --weights FILE");
        }
        String dir = spec.name();
        try {
            Path main = dl.fetch(spec.url(), dir, spec.cacheName(), spec.checksum());
            if (spec.format() == WeightsSpec.Format.TFJS) {
                JsonNode manifest = new com.fasterxml.jackson.databind.ObjectMapper().readTree(main.toFile()).path("weightsManifest");
                String base = spec.url().substring(0, spec.url().lastIndexOf('/') + 1);
                for (JsonNode group : manifest) {
                    for (JsonNode p : group.path("paths")) {
                        String rel = p.asText();
                        if (rel.contains("/") || rel.contains("..")) {
                            throw new WeightsException(main.toString(), "names shard '" + rel + "', which is not a plain file name");
                        }
                        dl.fetch(base + rel, dir, rel, null);
                    }
                }
                String meta = base + "metadata.json";
                try {
                    dl.fetch(meta, dir, "metadata.json", null);
                } catch (DownloadException e) {
                    log.accept("no class labels at " + meta + " (" + e.getMessage() + ")");
                }
            }
            return main;
        } catch (DownloadException e) {
            String hint = e.unreachable()
                    ? "graft could not download the " + spec.name() + " weights (" + e.getMessage() + "). Offline? Download "
                    + spec.url() + " elsewhere and pass --weights FILE, or put it in " + dl.cached(dir, spec.cacheName())
                    : e.getMessage();
            throw new DownloadException(hint, e.unreachable(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void warnNonFinite(StateDict sd, Consumer<String> log) {
        for (var e : sd.tensors().entrySet()) {
            long bad = e.getValue().countNonFinite();
            if (bad > 0) {
                log.accept("warning: " + sd.source() + ": tensor '" + e.getKey() + "' holds " + bad + " NaN/Inf values");
            }
        }
    }

    public static List<String> imagenetLabels() {
        List<String> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(
                Backbone.class.getResourceAsStream("/dev/graft/weights/imagenet_classes.txt"), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                out.add(line);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** A new target network: the source's architecture with a new head of {@code numClasses} outputs. */
    public Network newNetwork(int numClasses, Layers layers) {
        if (graph != null) {
            return KerasGraph.build(graph, numClasses, layers, architectureName());
        }
        return ResNet.build(spec.architecture(), numClasses, layers);
    }

    /** Copies every pretrained parameter except the source classifier into the network's body. */
    public void copyBody(Network net) {
        if (body == null) {
            throw new IllegalStateException("no pretrained weights loaded for " + spec.name());
        }
        String prefix = graph != null ? graph.classifier() + "/" : spec.classifier();
        net.loadBody(body, List.of(prefix));
    }

    /** Random initialisation as the source framework does it (torchvision or Keras). */
    public void initScratch(Network net, long seed) {
        if (graph != null) {
            KerasGraph.initScratch(net, seed);
        } else {
            Init.torchvision(net, seed);
        }
    }

    public String architectureName() {
        if (graph == null) {
            return spec.architecture();
        }
        return spec.name().equals("keras") ? "keras" : spec.name();
    }

    public WeightsSpec spec() {
        return spec;
    }

    public String source() {
        return source;
    }

    public KerasGraph.SourceClassifier classifier() {
        return classifier;
    }

    public List<String> sourceLabels() {
        return sourceLabels;
    }

    public KerasGraph.Graph graph() {
        return graph;
    }

    public JsonNode kerasConfig() {
        return kerasConfig;
    }

    public Preprocessing preprocessing() {
        return preprocessing;
    }

    /** SHA-256 of the weights file (or model.json), for the bundle's provenance. */
    public String sha256() {
        try {
            Path p = Path.of(source);
            if (Files.isDirectory(p)) {
                p = p.resolve("model.json");
            }
            return Files.isRegularFile(p) ? Checksum.digest(p, "SHA-256") : null;
        } catch (IOException | java.nio.file.InvalidPathException e) {
            return null;
        }
    }

    /**
     * The book's exercise 4: for each target class whose name matches a source class (any of its comma-separated
     * synonyms, ignoring case, spaces, '-' and '_'), the index of that source class, else -1.
     */
    public int[] matchClasses(List<String> targetClasses) {
        int[] out = new int[targetClasses.size()];
        for (int t = 0; t < out.length; t++) {
            out[t] = -1;
            String want = norm(targetClasses.get(t));
            for (int s = 0; s < sourceLabels.size() && out[t] < 0; s++) {
                for (String syn : sourceLabels.get(s).split(",")) {
                    if (norm(syn).equals(want)) {
                        out[t] = s;
                        break;
                    }
                }
            }
        }
        return out;
    }

    static String norm(String s) {
        return s.trim().toLowerCase(Locale.ROOT).replaceAll("[\\s_\\-]+", "");
    }
}
