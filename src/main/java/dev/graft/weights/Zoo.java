package dev.graft.weights;

import dev.graft.data.Preprocessing;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Pretrained weights graft knows how to fetch. ResNets are torchvision's ImageNet weights (the file names carry
 * the first 8 hex digits of their SHA-256, which torchvision checks and so do we); MobileNet v1 is Keras
 * Applications' ImageNet model as published for TensorFlow.js, which comes with no published checksum.
 */
public final class Zoo {
    private static final Map<String, WeightsSpec> ENTRIES = new LinkedHashMap<>();

    static {
        resnet("resnet18", "https://download.pytorch.org/models/resnet18-f37072fd.pth", "f37072fd");
        resnet("resnet34", "https://download.pytorch.org/models/resnet34-b627a593.pth", "b627a593");
        resnet("resnet50", "https://download.pytorch.org/models/resnet50-0676ba61.pth", "0676ba61");
        for (String alpha : new String[] {"0.25", "0.50", "0.75", "1.0"}) {
            String name = "mobilenet_v1_" + alpha;
            ENTRIES.put(name, new WeightsSpec(name, "keras", WeightsSpec.Format.TFJS,
                    "https://storage.googleapis.com/tfjs-models/tfjs/mobilenet_v1_" + alpha + "_224/model.json", null,
                    Preprocessing.minusOneToOne(224), "conv_preds", "file"));
        }
    }

    private static void resnet(String name, String url, String sha256) {
        ENTRIES.put(name, new WeightsSpec(name, name, WeightsSpec.Format.PTH, url, Checksum.sha256(sha256),
                Preprocessing.imagenet(), "fc.", "imagenet"));
    }

    private Zoo() {
    }

    public static Set<String> names() {
        return ENTRIES.keySet();
    }

    /** Looks up a model name; "mobilenet_v1" means alpha 1.0, "keras" any Keras model given as a file. */
    public static WeightsSpec get(String name) {
        String key = switch (name) {
            case "mobilenet_v1" -> "mobilenet_v1_1.0";
            case "mobilenet_v1_0.5" -> "mobilenet_v1_0.50";
            default -> name;
        };
        WeightsSpec s = ENTRIES.get(key);
        if (s == null && name.equals("keras")) {
            return new WeightsSpec("keras", "keras", WeightsSpec.Format.TFJS, "", null, Preprocessing.imagenet(), null, "file");
        }
        if (s == null) {
            throw new IllegalArgumentException("unknown model '" + name + "'; known: " + String.join(", ", names())
                    + ", mobilenet_v1, keras (any Keras model in TF.js layers format, with --weights)");
        }
        return s;
    }
}
