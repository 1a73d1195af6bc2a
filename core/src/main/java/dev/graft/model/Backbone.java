package dev.graft.model;

import dev.graft.data.Preprocessing;
import dev.graft.model.nn.Layers;
import dev.graft.weights.Checksum;
import dev.graft.weights.SourceClassifier;
import dev.graft.weights.Downloader;
import dev.graft.weights.StateDict;
import dev.graft.weights.WeightsFetch;

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
 *
 * @param architecture  how to build it
 * @param source        where the weights came from (a file, "random init", "bundle")
 * @param body          the pretrained parameters by name, in graft's layout; null without weights
 * @param classifier    the source's own classifier, for the book's exercise 4 and zero-shot accuracy; may be null
 * @param labels        the source classes' names (ImageNet's), empty when unknown
 * @param preprocessing what the weights expect of their input (with the user's size choices)
 */
public record Backbone(Architecture architecture, String source, StateDict body, SourceClassifier classifier,
                       List<String> labels, Preprocessing preprocessing) {

    /**
     * Loads a source model: from {@code weightsFile}, else the zoo's download; for training from scratch
     * ({@code needWeights} false) no file is read at all where the architecture is known without one.
     */
    public static Backbone load(Architecture arch, Path weightsFile, boolean needWeights, Downloader downloader,
                                Preprocessing preprocessing, Consumer<String> log) {
        Preprocessing pre = preprocessing != null ? preprocessing : arch.weights().preprocessing();
        if (weightsFile == null && !needWeights) {
            return new Backbone(arch, "random init", null, null, List.of(), pre);
        }
        Path file = weightsFile != null ? weightsFile : WeightsFetch.fetch(arch.weights(), downloader, log);
        Backbone b = arch.load(file, pre, log);
        warnNonFinite(b.body(), log);
        return b;
    }

    /** A new target network: the source's architecture with a new head of {@code numClasses} outputs. */
    public Network newNetwork(int numClasses, Layers layers) {
        return new Network(architecture.name(), architecture.build(layers), architecture.headName(), numClasses, layers);
    }

    /** Copies every pretrained parameter except the source classifier into the network's body. */
    public void copyBody(Network net) {
        if (body == null) {
            throw new IllegalStateException("no pretrained weights loaded for " + architecture.name());
        }
        net.loadBody(body, List.of(architecture.sourceClassifierPrefix()));
    }

    /** Random initialisation as the source framework does it (torchvision or Keras). */
    public void initScratch(Network net, long seed) {
        architecture.initScratch(net, seed);
    }

    /** SHA-256 of the weights file (or a TF.js model.json), for the bundle's provenance. */
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
            for (int s = 0; s < labels.size() && out[t] < 0; s++) {
                for (String syn : labels.get(s).split(",")) {
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

    private static void warnNonFinite(StateDict sd, Consumer<String> log) {
        if (sd == null) {
            return;
        }
        for (var e : sd.tensors().entrySet()) {
            long bad = e.getValue().countNonFinite();
            if (bad > 0) {
                log.accept("warning: " + sd.source() + ": tensor '" + e.getKey() + "' holds " + bad + " NaN/Inf values");
            }
        }
    }

    /** torchvision's ImageNet-1k class names, in output order. */
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
}
