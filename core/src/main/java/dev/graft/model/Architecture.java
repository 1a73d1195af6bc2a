package dev.graft.model;

import dev.graft.data.Preprocessing;
import dev.graft.model.nn.Layers;
import dev.graft.weights.WeightsSpec;

import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * A source model's architecture, one file per family, listed in {@link Architectures}: how to build it with the
 * source framework's module structure and parameter names (so its weight file maps by name), where it keeps its
 * classifier, how its framework initialises it, and its zoo entry (weights and the preprocessing they expect).
 */
public interface Architecture {
    /** The --model name, e.g. "resnet18". */
    String name();

    /** The zoo entry: download, checksum, preprocessing, classifier, labels; null where the weights file brings all. */
    WeightsSpec weights();

    /**
     * Where the source model keeps its classifier ("fc", "classifier.1", "heads.head"): the new output layer
     * takes its place and its name, so exports load back into the source framework strictly.
     */
    String headName();

    /** Names of the source classifier's parameters in a weights file start with this (not copied into the body). */
    default String sourceClassifierPrefix() {
        return headName() + ".";
    }

    /** The body: every layer of the source model but its classifier, ending in a pooled feature vector. */
    Body build(Layers layers);

    /** Random initialisation as the source framework does it, for training from scratch. */
    void initScratch(Network net, long seed);

    /** The pretrained source model in a weights file (given or downloaded). */
    Backbone load(Path file, Preprocessing preprocessing, Consumer<String> log);

    /** Facts for {@code graft models}; null where there are none (a Keras model read from a file). */
    default ModelCard card() {
        return null;
    }
}
