package dev.graft.model.keras;

import com.fasterxml.jackson.databind.JsonNode;
import dev.graft.weights.WeightsException;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A Keras model's layer graph as read from its {@code model_config} (TF.js layers model.json or HDF5), with the
 * classifier located: everything up to the classifier's input (the cut) is the body.
 *
 * @param layers     in file order, which is topological
 * @param output     the model's output layer
 * @param classifier the layer cut off (the source classifier)
 * @param cut        the classifier's input, the body's output
 */
public record KerasGraph(List<Layer> layers, String output, String classifier, String cut) {

    /** One layer as written in model_config. */
    public record Layer(String name, String type, JsonNode config, List<String> inputs) {
    }

    public Layer layer(String name) {
        for (Layer l : layers) {
            if (l.name().equals(name)) {
                return l;
            }
        }
        throw new IllegalArgumentException("no layer named " + name);
    }

    /**
     * Parses a Keras Functional or Sequential model_config, checks every layer type is one graft can run, and finds
     * the classifier to cut ({@code classifier} names it, else the last Dense/Conv2D before the output).
     */
    public static KerasGraph parse(JsonNode modelConfig, String classifier, String source) {
        String cls = modelConfig.path("class_name").asText();
        JsonNode cfg = modelConfig.path("config");
        List<Layer> layers = new ArrayList<>();
        String output;
        if (cls.equals("Sequential")) {
            JsonNode list = cfg.isArray() ? cfg : cfg.path("layers");
            String prev = null;
            for (JsonNode l : list) {
                String type = l.path("class_name").asText();
                JsonNode c = l.path("config");
                String name = c.path("name").asText();
                if (prev == null && !type.equals("InputLayer")) {
                    layers.add(new Layer("input", "InputLayer", c, List.of()));
                    prev = "input";
                }
                layers.add(new Layer(name, type, c, prev == null ? List.of() : List.of(prev)));
                prev = name;
            }
            output = prev;
        } else if (cls.equals("Model") || cls.equals("Functional")) {
            for (JsonNode l : cfg.path("layers")) {
                String name = l.path("name").asText(l.path("config").path("name").asText());
                JsonNode nodes = l.path("inbound_nodes");
                if (nodes.size() > 1) {
                    throw new WeightsException(source, "layer '" + name + "' is shared (called " + nodes.size()
                            + " times); graft imports graphs where each layer is used once");
                }
                List<String> inputs = new ArrayList<>();
                if (nodes.size() == 1) {
                    JsonNode node = nodes.get(0);
                    if (!node.isArray()) {
                        throw new WeightsException(source, "layer '" + name + "' uses a Keras 3 node format that graft does not read; "
                                + "save the model with Keras 2 / tf.keras");
                    }
                    for (JsonNode in : node) {
                        inputs.add(in.get(0).asText());
                    }
                }
                layers.add(new Layer(name, l.path("class_name").asText(), l.path("config"), inputs));
            }
            JsonNode outs = cfg.path("output_layers");
            if (outs.size() != 1) {
                throw new WeightsException(source, "graft imports models with exactly one output, this has " + outs.size());
            }
            output = outs.get(0).get(0).asText();
        } else {
            throw new WeightsException(source, "model class '" + cls + "' is not a Keras Model/Functional/Sequential");
        }
        for (Layer l : layers) {
            KerasLayers.check(l, source);
        }
        KerasGraph g = new KerasGraph(layers, output, null, null);
        String found = classifier != null ? classifier : g.findClassifier(source);
        Layer c;
        try {
            c = g.layer(found);
        } catch (IllegalArgumentException e) {
            throw new WeightsException(source, "has no layer named '" + found + "' to cut as the classifier");
        }
        if (c.inputs().size() != 1) {
            throw new WeightsException(source, "classifier '" + found + "' must have exactly one input");
        }
        return new KerasGraph(layers, output, found, c.inputs().get(0));
    }

    /** Walks back from the output through softmax/reshape/flatten/dropout to the last Dense or Conv2D. */
    String findClassifier(String source) {
        String cur = output;
        while (true) {
            Layer l = layer(cur);
            switch (l.type()) {
                case "Dense", "Conv2D" -> {
                    return cur;
                }
                case "Activation", "Reshape", "Flatten", "Dropout" -> cur = l.inputs().get(0);
                default -> throw new WeightsException(source, "cannot find the classifier layer: walking back from the output met "
                        + l.type() + " '" + l.name() + "'; name it with --classifier");
            }
        }
    }

    /** A short description for logs. */
    public String summary() {
        Map<String, Integer> counts = new TreeMap<>();
        layers.forEach(l -> counts.merge(l.type(), 1, Integer::sum));
        return String.format(Locale.ROOT, "%d layers %s, classifier '%s' cut at '%s'", layers.size(), counts, classifier, cut);
    }
}
