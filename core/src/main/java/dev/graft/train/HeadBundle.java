package dev.graft.train;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.model.Backbone;
import dev.graft.model.Network;
import dev.graft.model.nn.Layers;
import dev.graft.model.nn.Torch;
import dev.graft.util.Json;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A bundle from a source model and a head fitted elsewhere: the body copied from the source weights, the new output
 * layer set to the given weights. For heads fitted on features computed outside {@code graft train} (Apache Spark's
 * {@code fit-head}); the folder is an ordinary bundle that {@code predict}, {@code serve}, {@code export} and
 * {@code dev.graft.api.Classifier} read like any other.
 */
public final class HeadBundle {
    private HeadBundle() {
    }

    /**
     * graft's probe head: multinomial logistic regression with lambda chosen by stratified 5-fold cross-validation,
     * then refitted on all rows, exactly as {@code --mode probe} fits it.
     *
     * @param features rows with their labels (0..classes-1) and ids (rows are put in id order first, so the same
     *                 images give the same folds however they were gathered)
     */
    public static ProbeFit fitProbe(FeatureSet features, int classes, long seed) {
        Probe.Head h = Probe.fit(features, classes, seed);
        return new ProbeFit(h.fit().weight(), h.fit().bias(), h.fit().lambda(), h.cv(), h.trainAccuracy(), h.describe(features.size()));
    }

    /**
     * A fitted head: W row-major (classes x featureDim), the bias per class, the lambda used, how it was chosen,
     * the accuracy on the rows it was fitted on and a line for logs.
     */
    public record ProbeFit(float[] weight, float[] bias, double lambda, LinearProbe.CrossValidation cv, double trainAccuracy,
                           String description) {
    }

    /**
     * Writes a bundle: {@code source}'s body with a new head of {@code labels.size()} outputs set to
     * {@code weight} (row-major, classes x featureDim) and {@code bias}.
     *
     * @param headInit how the head was obtained, in words (model.json source_weights.head_init)
     * @param extra    more top-level manifest entries (e.g. "data", "results", "head_fit"); may be empty
     */
    public static void save(Path dir, Backbone source, List<String> labels, float[] weight, float[] bias, String headInit,
                            Map<String, ?> extra) throws IOException {
        if (labels.size() < 2) {
            throw new IllegalArgumentException("a classifier needs at least 2 classes, got " + labels);
        }
        Torch.noGrad(() -> {
            try (NDManager manager = Torch.newManager()) {
                Network net = source.newNetwork(labels.size(), new Layers(manager));
                int want = labels.size() * net.featureDim();
                if (weight.length != want || bias.length != labels.size()) {
                    throw new IllegalArgumentException("head weights have " + weight.length + " + " + bias.length + " values, but "
                            + source.architecture().name() + " with " + labels.size() + " classes needs " + want + " + " + labels.size()
                            + " (feature dimension " + net.featureDim() + ")");
                }
                source.copyBody(net);
                net.setHead(weight, bias);
                write(dir, source, net, labels, headInit, extra);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    private static void write(Path dir, Backbone source, Network net, List<String> labels, String headInit, Map<String, ?> extra)
            throws IOException {
        ObjectNode m = Bundle.manifest(source, net, labels, source.preprocessing(), headInit);
        extra.forEach((k, v) -> m.set(k, Json.tree(v)));
        Bundle.write(dir, m, source, net, labels);
    }
}
