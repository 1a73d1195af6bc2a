package dev.graft.train;

import ai.djl.nn.Parameter;
import dev.graft.weights.StateDict;

import java.util.Locale;
import java.util.Map;

/**
 * An optimizer by name, as torchvision's reference training script picks one ({@code --opt sgd|adamw}): it updates
 * every parameter that has a gradient at its group's learning rate and weight decay, and keeps its own state
 * (momentum buffers, moment estimates) by parameter name, so a checkpoint holds it as one named state dict and a
 * resume continues bit-exactly.
 */
public interface Optimizer {

    /** The optimizers graft has: SGD with momentum (the CNNs' fine-tune) and AdamW (ViT and ConvNeXt, as their references train them). */
    enum Kind {
        SGD, ADAMW;

        public static Kind parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "sgd" -> SGD;
                case "adamw" -> ADAMW;
                default -> throw new IllegalArgumentException("unknown optimizer '" + s + "' (sgd, adamw)");
            };
        }

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The name its state is saved under in checkpoints. */
    String name();

    /**
     * One step on every parameter that has a gradient, each at its group's rate times {@code lrFactor}, and zeroes
     * the gradients. {@code momentum} overrides SGD's momentum or AdamW's beta1 for this step (one-cycle's
     * momentum cycle); NaN keeps the optimizer's own.
     */
    void step(ParamGroups groups, double lrFactor, double momentum);

    /** The optimizer's state by "slot/parameter name", for checkpoints. */
    StateDict state();

    /** Restores {@link #state()}; a name that is not among {@code params} is an error. */
    void load(StateDict state, Map<String, Parameter> params);

    /** The optimizer a recipe names, with its hyper-parameters. */
    static Optimizer of(Recipe.Optimization o) {
        return switch (o.optimizer()) {
            case SGD -> new Sgd(o.momentum());
            case ADAMW -> new AdamW(o.momentum(), AdamW.BETA2, AdamW.EPS);
        };
    }
}
