package dev.graft.model;

import dev.graft.data.Preprocessing;
import dev.graft.weights.Checksum;
import dev.graft.weights.SourceClassifier;
import dev.graft.weights.PthReader;
import dev.graft.weights.SafeTensors;
import dev.graft.weights.StateDict;
import dev.graft.weights.TensorData;
import dev.graft.weights.WeightsException;
import dev.graft.weights.WeightsSpec;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * What every torchvision architecture shares: its weights are a state_dict (.pth, or safetensors with the same
 * names), its classifier is a Linear under {@link #headName()}, its source classes are ImageNet's, and its zoo
 * entry is download.pytorch.org's file whose name carries the first 8 hex digits of its SHA-256.
 */
public abstract class TorchvisionModel implements Architecture {
    /** torchvision's code is BSD-3-Clause; its ImageNet weights come with no licence of their own (ImageNet's terms apply). */
    static final String LICENSE = "BSD-3-Clause (torchvision); weights trained on ImageNet-1k, ImageNet's non-commercial terms";
    private final String name;
    private final WeightsSpec weights;
    private final String headName;
    private final ModelCard card;

    /**
     * @param file   the weights' file name on download.pytorch.org/models/ (e.g. "resnet18-f37072fd.pth")
     * @param pre    the preprocessing torchvision's weight metadata gives
     */
    protected TorchvisionModel(String name, String file, String headName, Preprocessing pre, ModelCard card) {
        this.name = name;
        this.headName = headName;
        this.card = card;
        String hash = file.substring(file.lastIndexOf('-') + 1, file.lastIndexOf('.'));
        this.weights = new WeightsSpec(name, WeightsSpec.Format.PTH, "https://download.pytorch.org/models/" + file,
                Checksum.sha256(hash), pre, headName + ".", "imagenet");
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
        return headName;
    }

    @Override
    public ModelCard card() {
        return card;
    }

    @Override
    public Backbone load(Path file, Preprocessing pre, Consumer<String> log) {
        WeightsSpec.Format format = WeightsSpec.Format.of(file);
        if (format == WeightsSpec.Format.TFJS || format == WeightsSpec.Format.H5) {
            throw new WeightsException(file.toString(), "is a Keras model, but --model " + name + " needs a torchvision "
                    + "state_dict (.pth or .safetensors); for this file use --model keras (any Keras model) or "
                    + "--model mobilenet_v1_<alpha> (Keras Applications' MobileNet)");
        }
        StateDict sd = format == WeightsSpec.Format.SAFETENSORS ? SafeTensors.read(file) : PthReader.read(file);
        SourceClassifier c = null;
        TensorData w = sd.get(sourceClassifierPrefix() + "weight");
        if (w != null && w.shape().length == 2) {
            TensorData b = sd.get(sourceClassifierPrefix() + "bias");
            c = new SourceClassifier(w.toFloats(), b == null ? new float[(int) w.shape()[0]] : b.toFloats(),
                    (int) w.shape()[0], (int) w.shape()[1]);
        }
        List<String> labels = c != null && c.classes() == 1000 ? Backbone.imagenetLabels() : List.of();
        return new Backbone(this, file.toString(), sd, c, labels, pre);
    }
}
