package dev.graft.model.keras;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import dev.graft.model.nn.Params;
import dev.graft.weights.SourceClassifier;
import dev.graft.weights.StateDict;
import dev.graft.weights.TensorData;
import dev.graft.weights.WeightsException;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

/** Keras weights in graft's layout, the source classifier they contain, and Keras's initialisers. */
public final class KerasWeights {
    private KerasWeights() {
    }

    /** Converts Keras-layout weights (HWIO kernels, Dense (in, out)) to graft's layout, keeping the names. */
    public static StateDict toGraftLayout(KerasGraph g, StateDict raw) {
        StateDict out = new StateDict(raw.source());
        Map<String, String> typeOf = new HashMap<>();
        for (KerasGraph.Layer l : g.layers()) {
            typeOf.put(l.name(), l.type());
        }
        for (Map.Entry<String, TensorData> e : raw.tensors().entrySet()) {
            String key = e.getKey();
            int slash = key.lastIndexOf('/');
            String layer = slash < 0 ? key : key.substring(0, slash);
            String param = slash < 0 ? key : key.substring(slash + 1);
            String type = typeOf.getOrDefault(layer, "");
            TensorData t = e.getValue();
            if (type.equals("Conv2D") && param.equals("kernel")) {
                t = t.permute(3, 2, 0, 1); // HWIO -> OIHW
            } else if (type.equals("DepthwiseConv2D") && param.equals("depthwise_kernel")) {
                long[] s = t.shape(); // H W C M -> (C*M) 1 H W
                t = t.permute(2, 3, 0, 1).reshape(s[2] * s[3], 1, s[0], s[1]);
            } else if (type.equals("Dense") && param.equals("kernel")) {
                t = t.permute(1, 0);
            }
            out.put(key, t);
        }
        return out;
    }

    /** The classifier cut off the source model, as rows per source class, from Keras-layout weights. */
    public static SourceClassifier sourceClassifier(KerasGraph g, StateDict raw) {
        KerasGraph.Layer c = g.layer(g.classifier());
        TensorData k = raw.require(c.name() + "/kernel");
        long[] s = k.shape();
        TensorData w;
        if (c.type().equals("Dense")) {
            w = k.permute(1, 0);
        } else if (s.length == 4 && s[0] == 1 && s[1] == 1) {
            w = k.reshape(s[2], s[3]).permute(1, 0);
        } else {
            throw new WeightsException(raw.source(), "classifier '" + c.name() + "' is not a Dense or 1x1 convolution");
        }
        long[] ws = w.shape();
        TensorData b = raw.get(c.name() + "/bias");
        float[] bias = b == null ? new float[(int) ws[0]] : b.toFloats();
        return new SourceClassifier(w.toFloats(), bias, (int) ws[0], (int) ws[1]);
    }

    /** Keras's default initialisers for training from scratch: glorot_uniform kernels, zero biases, BatchNorm at identity. */
    public static void initScratch(Map<String, Parameter> params, String headWeight, long seed) {
        Random rng = new Random(seed);
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            String name = e.getKey();
            NDArray a = e.getValue().getArray();
            long[] shape = a.getShape().getShape();
            float[] v = new float[(int) a.size()];
            if (name.endsWith("kernel") || name.equals(headWeight)) {
                double fanIn;
                double fanOut;
                if (shape.length == 4) {
                    double rf = shape[2] * shape[3];
                    fanIn = shape[1] * rf;
                    fanOut = name.endsWith("depthwise_kernel") ? rf : shape[0] * rf;
                } else {
                    fanIn = shape[1];
                    fanOut = shape[0];
                }
                double limit = Math.sqrt(6.0 / (fanIn + fanOut));
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) ((rng.nextDouble() * 2 - 1) * limit);
                }
            } else if (name.endsWith("gamma") || name.endsWith("moving_variance")) {
                Arrays.fill(v, 1f);
            }
            Params.set(e.getValue(), v);
        }
    }
}
