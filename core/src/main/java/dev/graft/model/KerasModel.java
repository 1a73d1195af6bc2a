package dev.graft.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.graft.data.Preprocessing;
import dev.graft.model.keras.KerasApplications;
import dev.graft.model.keras.KerasBody;
import dev.graft.model.keras.KerasGraph;
import dev.graft.model.keras.KerasWeights;
import dev.graft.model.nn.Layers;
import dev.graft.weights.KerasH5;
import dev.graft.weights.SourceClassifier;
import dev.graft.weights.StateDict;
import dev.graft.weights.TfjsLayers;
import dev.graft.weights.WeightsException;
import dev.graft.weights.WeightsSpec;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * A Keras model whose layer graph comes with its weights (TF.js layers model.json, or an HDF5 file with its
 * model_config), imported by {@code model.keras}. The zoo knows Keras Applications' ImageNet MobileNet v1 as
 * published for TensorFlow.js (pixels scaled to [-1, 1]); its graph is also generated for weight-only .h5 files
 * and for training from scratch. This is the one place that decides "is this a Keras model".
 */
public final class KerasModel implements Architecture {
    static final String[] MOBILENET_ALPHAS = {"0.25", "0.50", "0.75", "1.0"};
    private final String name;
    private final WeightsSpec weights;
    private final KerasGraph graph;
    private final JsonNode config;

    private KerasModel(String name, WeightsSpec weights, JsonNode config, KerasGraph graph) {
        this.name = name;
        this.weights = weights;
        this.config = config;
        this.graph = graph;
    }

    static List<Architecture> variants() {
        List<Architecture> out = new ArrayList<>();
        for (String alpha : MOBILENET_ALPHAS) {
            String name = "mobilenet_v1_" + alpha;
            WeightsSpec spec = new WeightsSpec(name, WeightsSpec.Format.TFJS,
                    "https://storage.googleapis.com/tfjs-models/tfjs/mobilenet_v1_" + alpha + "_224/model.json", null,
                    Preprocessing.minusOneToOne(224), "conv_preds", "file");
            JsonNode cfg = KerasApplications.mobilenetV1(Double.parseDouble(alpha), 224);
            out.add(new KerasModel(name, spec, cfg, KerasGraph.parse(cfg, "conv_preds", name)));
        }
        out.add(new KerasModel("keras", new WeightsSpec("keras", WeightsSpec.Format.TFJS, "", null,
                Preprocessing.imagenet(), null, "file"), null, null));
        return out;
    }

    /** Rebuilds a trained model's source architecture from the topology saved in its bundle. */
    public static KerasModel fromTopology(String name, JsonNode config, String classifier) {
        return new KerasModel(name, new WeightsSpec(name, WeightsSpec.Format.TFJS, "", null, Preprocessing.imagenet(), classifier, "file"),
                config, KerasGraph.parse(config, classifier, "bundle topology"));
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public WeightsSpec weights() {
        return weights;
    }

    @Override
    public String headName() {
        return "head";
    }

    /**
     * Keras Applications' MobileNet v1 at 224: parameters by width (with its 1000-class classifier); multiply-adds
     * and top-1 from TensorFlow's MobileNet v1 table (the weights Keras converted).
     */
    @Override
    public ModelCard card() {
        return switch (name) {
            case "mobilenet_v1_0.25" -> new ModelCard(475_544, 0.041, 224, 49.8, LICENSE);
            case "mobilenet_v1_0.50" -> new ModelCard(1_342_536, 0.150, 224, 63.3, LICENSE);
            case "mobilenet_v1_0.75" -> new ModelCard(2_601_976, 0.317, 224, 68.4, LICENSE);
            case "mobilenet_v1_1.0" -> new ModelCard(4_253_864, 0.569, 224, 70.9, LICENSE);
            default -> null;
        };
    }

    static final String LICENSE = "Apache-2.0 (Keras Applications / TensorFlow.js models)";

    @Override
    public String sourceClassifierPrefix() {
        return graph().classifier() + "/";
    }

    /** The Keras model_config (saved in bundles as topology.json). */
    public JsonNode config() {
        return config;
    }

    public KerasGraph graph() {
        if (graph == null) {
            throw new IllegalArgumentException("--model " + name + " takes its layer graph from the weights: pass --weights "
                    + "(a TF.js model.json or its folder, or a Keras .h5 saved with its model)");
        }
        return graph;
    }

    @Override
    public Body build(Layers layers) {
        KerasBody body = new KerasBody(graph(), layers);
        return new Body(body, body.names(), body.featureDim(), 0f);
    }

    @Override
    public void initScratch(Network net, long seed) {
        KerasWeights.initScratch(net.namedParameters(), net.headName() + ".weight", seed);
    }

    @Override
    public Backbone load(Path file, Preprocessing pre, Consumer<String> log) {
        WeightsSpec.Format format = WeightsSpec.Format.of(file);
        JsonNode cfg;
        StateDict raw;
        List<String> labels;
        if (format == WeightsSpec.Format.H5) {
            KerasH5.Model m = KerasH5.read(file);
            if (m.modelConfig() != null) {
                cfg = m.modelConfig();
                labels = List.of();
            } else if (config != null && name.startsWith("mobilenet_v1_")) {
                cfg = config; // Keras Applications publishes weights saved with save_weights: the graph is known
                labels = Backbone.imagenetLabels();
            } else {
                throw new WeightsException(file.toString(), "holds weights only (no model_config); graft knows the graph for "
                        + "--model mobilenet_v1_<alpha>, otherwise save the whole model with model.save(...) so the file carries its graph");
            }
            raw = m.weights();
        } else if (format == WeightsSpec.Format.TFJS) {
            TfjsLayers.Model m = TfjsLayers.read(file);
            cfg = m.modelConfig();
            raw = m.weights();
            labels = m.labels();
        } else {
            throw new WeightsException(file.toString(), "is not a Keras model (TF.js model.json or .h5), which --model "
                    + name + " needs; for a torchvision state_dict use --model resnet18 (or another torchvision name, see graft models)");
        }
        KerasGraph g = KerasGraph.parse(cfg, weights.classifier(), file.toString());
        log.accept("imported Keras graph from " + file + ": " + g.summary());
        SourceClassifier c = KerasWeights.sourceClassifier(g, raw);
        String loadedName = nameOf(g, raw);
        if (!loadedName.equals(name) && name.startsWith("mobilenet_v1")) {
            log.accept("the weights in " + file + " are " + loadedName + "; the model is recorded as " + loadedName);
        }
        KerasModel loaded = new KerasModel(loadedName, new WeightsSpec(loadedName, format, weights.url(), weights.checksum(),
                weights.preprocessing(), g.classifier(), weights.labels()), cfg, g);
        return new Backbone(loaded, file.toString(), KerasWeights.toGraftLayout(g, raw), c, labels, pre);
    }

    /** Names a loaded model after its weights: MobileNet v1's width multiplier from its first convolution. */
    String nameOf(KerasGraph g, StateDict raw) {
        if (!name.startsWith("mobilenet_v1")) {
            return name;
        }
        var k = raw.get("conv1/kernel");
        if (k == null || k.shape().length != 4) {
            return "keras";
        }
        double alpha = k.shape()[3] / 32.0;
        for (String a : MOBILENET_ALPHAS) {
            if (Math.abs(Double.parseDouble(a) - alpha) < 1e-9) {
                return "mobilenet_v1_" + a;
            }
        }
        return String.format(Locale.ROOT, "keras");
    }
}
