package dev.graft.train;

import dev.graft.model.Backbone;
import dev.graft.model.Network;
import dev.graft.weights.SourceClassifier;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/** How the new output layer starts; each returns a description for the log and the bundle. */
final class NewHead {
    private NewHead() {
    }

    /** The book: Xavier-uniform weights, zero bias. */
    static String xavier(Network net, long seed) {
        net.initHeadXavier(seed);
        return "xavier";
    }

    /** The book's exercise 4: head rows of classes that exist in the source start from the source's rows. */
    static String sourceClass(Network net, Backbone backbone, List<String> classes, Consumer<String> log) {
        SourceClassifier src = backbone.classifier();
        if (src == null || backbone.labels().isEmpty()) {
            log.accept("source-class head init: the source model has no labelled classifier; keeping Xavier init");
            return "xavier (no source labels)";
        }
        int[] match = backbone.matchClasses(classes);
        List<String> lines = new ArrayList<>();
        int d = src.features();
        for (int t = 0; t < classes.size(); t++) {
            if (match[t] >= 0) {
                net.setHeadRow(t, Arrays.copyOfRange(src.weight(), match[t] * d, (match[t] + 1) * d), src.bias()[match[t]]);
                lines.add(classes.get(t) + " <- " + backbone.labels().get(match[t]) + " (source class " + match[t] + ")");
            } else {
                lines.add(classes.get(t) + " <- no source class (Xavier)");
            }
        }
        log.accept("source-class head init:\n  " + String.join("\n  ", lines));
        return "source-class: " + String.join("; ", lines);
    }

    /** LP-FT: the head starts as the linear probe on the body's features of the training images. */
    static String probe(Network net, Probe.Head h, int images, Consumer<String> log) {
        net.setHead(h.fit().weight(), h.fit().bias());
        log.accept("head initialised by the " + h.describe(images));
        return h.describe(images);
    }
}
