package dev.graft.train;

import ai.djl.nn.Parameter;
import dev.graft.model.Network;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Parameters with their learning rates, the book's {@code param_group}: the layers copied from the source model
 * learn at a small rate, the new output layer at ten times it.
 */
public record ParamGroups(List<Group> groups) {

    /** A named set of parameters sharing one base learning rate (before the schedule's factor). */
    public record Group(String name, Map<String, Parameter> parameters, double lr) {
    }

    public ParamGroups {
        groups = List.copyOf(groups);
    }

    /** The book's two groups: the copied body at {@code bodyLr}, the new head at {@code headLr}. */
    public static ParamGroups bodyAndHead(Network net, double bodyLr, double headLr) {
        List<Group> g = new ArrayList<>();
        g.add(new Group("body", net.bodyParameters(), bodyLr));
        g.add(new Group("head", net.headParameters(), headLr));
        return new ParamGroups(g);
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
            Map<String, Parameter> part = new java.util.LinkedHashMap<>();
            for (int k = body.size() * i / bodyGroups; k < body.size() * (i + 1) / bodyGroups; k++) {
                part.put(body.get(k).getKey(), body.get(k).getValue());
            }
            double rate = lr * Math.pow(minRatio, (bodyGroups - 1 - i) / (double) (bodyGroups - 1));
            g.add(new Group("body " + (i + 1) + "/" + bodyGroups, part, rate));
        }
        g.add(new Group("head", net.headParameters(), headLr));
        return new ParamGroups(g);
    }

    /** One group for every parameter (training from scratch). */
    public static ParamGroups single(Network net, double lr) {
        return new ParamGroups(List.of(new Group("all", net.namedParameters(), lr)));
    }

    public String describe() {
        StringBuilder sb = new StringBuilder();
        for (Group g : groups) {
            sb.append(sb.length() == 0 ? "" : ", ").append(g.name()).append(String.format(java.util.Locale.ROOT, " lr %.3g", g.lr()));
        }
        return sb.toString();
    }
}
