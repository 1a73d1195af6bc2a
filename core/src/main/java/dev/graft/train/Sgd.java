package dev.graft.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Parameter;
import dev.graft.weights.StateDict;
import dev.graft.weights.TensorData;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * SGD with momentum, one learning rate and weight decay per parameter group (the book's {@code param_group}: copied
 * layers at lr, the new head at 10x), keyed by parameter name rather than DJL's generated ids. Each parameter is
 * updated by one fused native call that also zeroes its gradient: w -= v, v = momentum * v + lr * (g + wd * w).
 * With a constant lr this is exactly torch.optim.SGD (whose buffer is v / lr); under a schedule the velocity
 * carries the lr it was built with, as in MXNet and DJL.
 */
public final class Sgd implements Optimizer {
    private final double momentum;
    private final Map<String, NDArray> velocity = new LinkedHashMap<>();

    public Sgd(double momentum) {
        this.momentum = momentum;
    }

    @Override
    public String name() {
        return "sgd";
    }

    @Override
    public void step(ParamGroups groups, double factor, double stepMomentum) {
        float mom = (float) (Double.isNaN(stepMomentum) ? momentum : stepMomentum);
        for (ParamGroups.Group g : groups.groups()) {
            float lr = (float) (g.lr() * factor);
            for (Map.Entry<String, Parameter> e : g.parameters().entrySet()) {
                NDArray w = e.getValue().getArray();
                if (!w.hasGradient()) {
                    continue; // frozen, or a buffer
                }
                try (NDArray grad = w.getGradient()) {
                    NDList inputs;
                    if (mom > 0) {
                        NDArray v = velocity.computeIfAbsent(e.getKey(), k -> w.getManager().zeros(w.getShape()));
                        inputs = new NDList(w, grad, v);
                    } else {
                        inputs = new NDList(w, grad);
                    }
                    w.getNDArrayInternal().sgdUpdate(inputs, new NDList(w), lr, (float) g.weightDecay(), 1f, -1f, mom, false);
                }
            }
        }
    }

    /** Momentum buffers by parameter name. */
    @Override
    public StateDict state() {
        StateDict sd = new StateDict("sgd");
        velocity.forEach((k, v) -> sd.put("velocity/" + k, TensorData.ofFloats(v.toFloatArray(), v.getShape().getShape())));
        return sd;
    }

    @Override
    public void load(StateDict state, Map<String, Parameter> params) {
        velocity.values().forEach(NDArray::close);
        velocity.clear();
        state.tensors().forEach((key, t) -> {
            String k = key.startsWith("velocity/") ? key.substring("velocity/".length()) : key;
            Parameter p = params.get(k);
            if (p == null) {
                throw new IllegalArgumentException("checkpoint has momentum for unknown parameter " + k);
            }
            velocity.put(k, p.getArray().getManager().create(t.toFloats(), p.getArray().getShape()));
        });
    }
}
