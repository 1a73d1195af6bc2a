package dev.graft.train;

import dev.graft.data.BadImages;
import dev.graft.data.ImageFolder;
import dev.graft.data.Preprocessing;
import dev.graft.model.Backbone;
import dev.graft.model.Network;
import dev.graft.weights.SourceClassifier;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/** How the new output layer starts; each returns a description for the log and the bundle. */
final class HeadInit {
    /** Regularisation of the probe that starts LP-FT, times 1/n; stronger than a plain probe's so the head is not overconfident. */
    static final double PROBE_HEAD_LAMBDA = 10;

    private HeadInit() {
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

    /** LP-FT: the head starts as a logistic regression fitted on the body's features of the training images. */
    static String probe(Network net, ImageFolder train, Preprocessing pre, TrainOptions opts, Consumer<String> log) {
        FeatureSet tr = FeatureSet.compute(net, train, pre, opts, new BadImages(s -> { }));
        LinearProbe lp = new LinearProbe(net.numClasses(), net.featureDim());
        double lambda = PROBE_HEAD_LAMBDA / Math.max(1, tr.size());
        LinearProbe.Fit fit = lp.fit(tr, lambda, 300);
        net.setHead(fit.weight(), fit.bias());
        String msg = String.format(Locale.ROOT, "probe (logistic regression on %d feature vectors, lambda %.2g, train acc %.3f)",
                tr.size(), lambda, lp.accuracy(fit, tr));
        log.accept("head initialised by a linear " + msg);
        return msg;
    }
}
