package dev.graft.model;

import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;

import java.util.Map;
import java.util.function.UnaryOperator;

/** Gives the parameters of a block tree the names their source framework uses. */
public final class ParamNames {
    /** DJL leaf parameter names to torch's. */
    public static final UnaryOperator<String> TORCH = n -> switch (n) {
        case "gamma" -> "weight";
        case "beta" -> "bias";
        case "runningMean" -> "running_mean";
        case "runningVar" -> "running_var";
        default -> n;
    };

    private ParamNames() {
    }

    /** Walks children depth-first in insertion order, joining names with dots. */
    public static void collect(Block block, String prefix, UnaryOperator<String> leafNames, Map<String, Parameter> out) {
        for (Pair<String, Parameter> p : block.getDirectParameters()) {
            out.put(prefix + leafNames.apply(p.getKey()), p.getValue());
        }
        int i = 0;
        for (Pair<String, Block> c : block.getChildren()) {
            String name = Module.childName(i++, c.getKey());
            collect(c.getValue(), prefix + name + ".", leafNames, out);
        }
    }
}
