package dev.graft.model;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Every architecture --model accepts: one registration line per family file. */
public final class Architectures {
    private static final Map<String, Architecture> ALL = new LinkedHashMap<>();

    static {
        register(ResNet.variants());
        register(MobileNetV2.variants());
        register(MobileNetV3.variants());
        register(EfficientNet.variants());
        register(ConvNeXt.variants());
        register(RegNet.variants());
        register(VisionTransformer.variants());
        register(KerasModel.variants());
    }

    private Architectures() {
    }

    private static void register(List<Architecture> family) {
        family.forEach(a -> ALL.put(a.name(), a));
    }

    public static Collection<Architecture> all() {
        return Collections.unmodifiableCollection(ALL.values());
    }

    /** Looks up a --model name; "mobilenet_v1" means alpha 1.0. */
    public static Architecture get(String name) {
        String key = switch (name) {
            case "mobilenet_v1" -> "mobilenet_v1_1.0";
            case "mobilenet_v1_0.5" -> "mobilenet_v1_0.50";
            default -> name;
        };
        Architecture a = ALL.get(key);
        if (a == null) {
            throw new IllegalArgumentException("unknown model '" + name + "'; known: " + String.join(", ", ALL.keySet())
                    + " (graft models lists them)");
        }
        return a;
    }
}
