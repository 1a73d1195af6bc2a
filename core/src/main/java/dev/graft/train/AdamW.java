package dev.graft.train;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import dev.graft.weights.StateDict;
import dev.graft.weights.TensorData;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Adam with decoupled weight decay (Loshchilov and Hutter), computed as torch.optim.AdamW computes it
 * (single-tensor path, no amsgrad): w *= 1 - lr wd; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
 * w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps), with t counted per parameter (a parameter that
 * was frozen for the first epochs starts its own count when it first trains). Which parameters decay is the
 * parameter groups' business ({@link ParamGroups}: no decay on norm and bias parameters for AdamW recipes).
 */
public final class AdamW implements Optimizer {
    /** torch.optim.AdamW's defaults. */
    static final double BETA2 = 0.999;
    static final double EPS = 1e-8;

    private final double beta1;
    private final double beta2;
    private final double eps;
    private final Map<String, Moments> moments = new LinkedHashMap<>();

    private static final class Moments {
        final NDArray m;
        final NDArray v;
        long t;

        Moments(NDArray m, NDArray v, long t) {
            this.m = m;
            this.v = v;
            this.t = t;
        }
    }

    public AdamW(double beta1, double beta2, double eps) {
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
    }

    @Override
    public String name() {
        return "adamw";
    }

    @Override
    public void step(ParamGroups groups, double factor, double stepBeta1) {
        double b1 = Double.isNaN(stepBeta1) ? beta1 : stepBeta1;
        for (ParamGroups.Group g : groups.groups()) {
            double lr = g.lr() * factor;
            for (Map.Entry<String, Parameter> e : g.parameters().entrySet()) {
                NDArray w = e.getValue().getArray();
                if (!w.hasGradient()) {
                    continue;
                }
                Moments s = moments.computeIfAbsent(e.getKey(),
                        k -> new Moments(w.getManager().zeros(w.getShape()), w.getManager().zeros(w.getShape()), 0));
                s.t++;
                try (NDArray grad = w.getGradient()) {
                    if (g.weightDecay() > 0) {
                        w.muli((float) (1 - lr * g.weightDecay()));
                    }
                    s.m.muli((float) b1);
                    try (NDArray scaled = grad.mul((float) (1 - b1))) {
                        s.m.addi(scaled);
                    }
                    s.v.muli((float) beta2);
                    try (NDArray sq = grad.mul(grad)) {
                        sq.muli((float) (1 - beta2));
                        s.v.addi(sq);
                    }
                    double bc1 = 1 - Math.pow(b1, s.t);
                    double bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, s.t));
                    try (NDArray denom = s.v.sqrt()) {
                        denom.divi((float) bc2Sqrt).addi((float) eps);
                        try (NDArray update = s.m.div(denom)) {
                            update.muli((float) (lr / bc1));
                            w.subi(update);
                        }
                    }
                    grad.subi(grad); // zero the gradient, as the fused SGD update does
                }
            }
        }
    }

    /** First and second moments and the step count of each parameter. */
    @Override
    public StateDict state() {
        StateDict sd = new StateDict("adamw");
        moments.forEach((k, s) -> {
            sd.put("exp_avg/" + k, TensorData.ofFloats(s.m.toFloatArray(), s.m.getShape().getShape()));
            sd.put("exp_avg_sq/" + k, TensorData.ofFloats(s.v.toFloatArray(), s.v.getShape().getShape()));
            sd.put("step/" + k, TensorData.ofLongs(new long[] {s.t}));
        });
        return sd;
    }

    @Override
    public void load(StateDict state, Map<String, Parameter> params) {
        moments.values().forEach(s -> {
            s.m.close();
            s.v.close();
        });
        moments.clear();
        for (var e : state.tensors().entrySet()) {
            if (!e.getKey().startsWith("exp_avg/")) {
                continue;
            }
            String k = e.getKey().substring("exp_avg/".length());
            Parameter p = params.get(k);
            TensorData v = state.get("exp_avg_sq/" + k);
            TensorData t = state.get("step/" + k);
            if (p == null || v == null || t == null) {
                throw new IllegalArgumentException("checkpoint has AdamW state for unknown or incomplete parameter " + k);
            }
            NDArray w = p.getArray();
            moments.put(k, new Moments(w.getManager().create(e.getValue().toFloats(), w.getShape()),
                    w.getManager().create(v.toFloats(), w.getShape()), t.toLongs()[0]));
        }
    }
}
