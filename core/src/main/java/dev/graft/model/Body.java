package dev.graft.model;

import ai.djl.nn.Parameter;
import dev.graft.model.nn.Module;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every layer of a source model but its classifier: input images to pooled feature vectors.
 *
 * @param block       the layers
 * @param parameters  every parameter and buffer by the source framework's name
 * @param featureDim  length of the feature vector the classifier reads
 * @param dropout     dropout the source model applies to the features before its classifier (torchvision's
 *                    classifier = Sequential(Dropout(p), Linear)); the new head keeps it
 */
public record Body(Module block, Map<String, Parameter> parameters, int featureDim, float dropout) {
    public Body {
        parameters = Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
    }

    /** A body whose block tree already carries the framework's names (torchvision models). */
    public static Body of(Module block, int featureDim, float dropout) {
        Map<String, Parameter> names = new LinkedHashMap<>();
        Module.collect(block, "", names);
        return new Body(block, names, featureDim, dropout);
    }
}
