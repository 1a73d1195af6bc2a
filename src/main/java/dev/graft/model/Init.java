package dev.graft.model;

import ai.djl.nn.Parameter;

import java.util.Map;
import java.util.Random;

/** Random initialisation for training from scratch, as the source frameworks do it. */
public final class Init {
    private Init() {
    }

    /**
     * torchvision's ResNet init: convolutions kaiming_normal_(mode="fan_out", nonlinearity="relu"), BatchNorm
     * weight 1 and bias 0, and the classifier as nn.Linear's default, U(-1/sqrt(in), 1/sqrt(in)).
     */
    public static void torchvision(Network net, long seed) {
        Random rng = new Random(seed);
        for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
            String name = e.getKey();
            long[] shape = e.getValue().getArray().getShape().getShape();
            int n = (int) e.getValue().getArray().size();
            float[] v = new float[n];
            if (name.startsWith(net.headName() + ".")) {
                double bound = 1.0 / Math.sqrt(net.featureDim());
                for (int i = 0; i < n; i++) {
                    v[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
                }
            } else if (shape.length == 4) {
                double std = Math.sqrt(2.0 / (shape[0] * shape[2] * shape[3]));
                for (int i = 0; i < n; i++) {
                    v[i] = (float) (rng.nextGaussian() * std);
                }
            } else if (name.endsWith("running_var") || (name.endsWith(".weight") && shape.length == 1)) {
                java.util.Arrays.fill(v, 1f);
            } // biases and running means stay 0
            Network.set(e.getValue(), v);
        }
    }
}
