package dev.graft.train;

import ai.djl.nn.Parameter;
import dev.graft.model.Network;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Parameters with their learning rates and weight decay, the book's {@code param_group}: the layers copied from
 * the source model learn at a small rate, the new output layer at ten times it. With {@code decayNormAndBias}
 * false, the one-dimensional parameters (BatchNorm and LayerNorm scales and shifts, biases) go into groups of their
 * own without weight decay, as torchvision's reference ({@code --norm-weight-decay 0}) and timm do for AdamW.
 */
public record ParamGroups(List<Group> groups, double baseLr) {

    /** A named set of parameters sharing one base learning rate (before the schedule's factor) and weight decay. */
    public record Group(String name, Map<String, Parameter> parameters, double lr, double weightDecay) {
    }

    public ParamGroups {
        groups = List.copyOf(groups);
    }

    /** The groups a recipe's optimization asks for: one for scratch, else the body in layers and the head. */
    public static ParamGroups of(Network net, Recipe.Optimization o, boolean scratch) {
        ParamGroups g = scratch ? single(net, o.lr())
                : layered(net, o.lr(), o.lr() * o.headLrMult(), o.lrGroups() - 1, o.lrMinRatio());
        return g.withWeightDecay(o.weightDecay(), o.decayNormAndBias());
    }

    /** The book's two groups: the copied body at {@code bodyLr}, the new head at {@code headLr}. */
    public static ParamGroups bodyAndHead(Network net, double bodyLr, double headLr) {
        List<Group> g = new ArrayList<>();
        g.add(new Group("body", net.bodyParameters(), bodyLr, 0));
        g.add(new Group("head", net.headParameters(), headLr, 0));
        return new ParamGroups(g, bodyLr);
    }

    /**
     * Discriminative learning rates (fastai's slice(lr * minRatio, lr)): the body's parameters, in depth order, split
     * into {@code bodyGroups} runs of about equal size with rates rising geometrically from lr x minRatio to lr,
     * then the head at {@code headLr}. One body group is the book's two-group recipe.
     */
    public static ParamGroups layered(Network net, double lr, double headLr, int bodyGroups, double minRatio) {
        if (bodyGroups <= 1) {
            return bodyAndHead(net, lr, headLr);
        }
        List<Map.Entry<String, Parameter>> body = new ArrayList<>(net.bodyParameters().entrySet());
        List<Group> g = new ArrayList<>();
        for (int i = 0; i < bodyGroups; i++) {
            Map<String, Parameter> part = new LinkedHashMap<>();
            for (int k = body.size() * i / bodyGroups; k < body.size() * (i + 1) / bodyGroups; k++) {
                part.put(body.get(k).getKey(), body.get(k).getValue());
            }
            double rate = lr * Math.pow(minRatio, (bodyGroups - 1 - i) / (double) (bodyGroups - 1));
            g.add(new Group("body " + (i + 1) + "/" + bodyGroups, part, rate, 0));
        }
        g.add(new Group("head", net.headParameters(), headLr, 0));
        return new ParamGroups(g, lr);
    }

    /** One group for every parameter (training from scratch). */
    public static ParamGroups single(Network net, double lr) {
        return new ParamGroups(List.of(new Group("all", net.namedParameters(), lr, 0)), lr);
    }

    /**
     * These groups with weight decay {@code wd}; unless {@code decayNormAndBias}, each group's one-dimensional
     * parameters split off into a "(no decay)" group at the same rate.
     */
    public ParamGroups withWeightDecay(double wd, boolean decayNormAndBias) {
        List<Group> out = new ArrayList<>();
        for (Group g : groups) {
            if (decayNormAndBias || wd == 0) {
                out.add(new Group(g.name, g.parameters, g.lr, wd));
                continue;
            }
            Map<String, Parameter> decay = new LinkedHashMap<>();
            Map<String, Parameter> keep = new LinkedHashMap<>();
            g.parameters.forEach((k, p) -> (isNormOrBias(k, p) ? keep : decay).put(k, p));
            out.add(new Group(g.name, decay, g.lr, wd));
            if (!keep.isEmpty()) {
                out.add(new Group(g.name + " (no decay)", keep, g.lr, 0));
            }
        }
        return new ParamGroups(out, baseLr);
    }

    /** timm's and torchvision's rule: biases and every parameter of at most one dimension (norm scales and shifts). */
    static boolean isNormOrBias(String name, Parameter p) {
        return name.endsWith(".bias") || p.getArray().getShape().dimension() <= 1;
    }

    /** Every group's base rate, by group name. */
    public Map<String, Double> rates() {
        Map<String, Double> m = new LinkedHashMap<>();
        groups.forEach(g -> m.put(g.name, g.lr));
        return m;
    }

    public String describe() {
        StringBuilder sb = new StringBuilder();
        for (Group g : groups) {
            if (g.parameters.isEmpty()) {
                continue;
            }
            sb.append(sb.length() == 0 ? "" : ", ").append(g.name).append(String.format(Locale.ROOT, " lr %.3g", g.lr));
            if (g.weightDecay > 0) {
                sb.append(String.format(Locale.ROOT, " wd %.3g", g.weightDecay));
            }
        }
        return sb.toString();
    }
}
