package dev.graft.model.keras;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import dev.graft.model.nn.Activation;
import dev.graft.model.nn.BatchNorm2d;
import dev.graft.model.nn.Conv2d;
import dev.graft.model.nn.Linear;
import dev.graft.onnx.OnnxGraph;
import dev.graft.onnx.OnnxGraph.Value;
import dev.graft.weights.WeightsException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.UnaryOperator;

/** Shapes and orders of Keras layers in graft's NCHW world: TensorFlow's 'same' padding, NHWC order, sizes, config pairs. */
final class KerasShapes {
    private KerasShapes() {
    }

    static Value toKerasOrder(OnnxGraph g, Value a) {
        return a.rank() == 4 ? g.transpose(a, 0, 2, 3, 1) : a;
    }

    /** NCHW to Keras's NHWC order for 4-d tensors (what Reshape and Flatten index by). */
    static NDArray toKerasOrder(NDArray a) {
        return a.getShape().dimension() == 4 ? a.transpose(0, 2, 3, 1) : a;
    }

    /** TensorFlow 'same' padding: total = max((ceil(n/s)-1)*s + k - n, 0), the odd pixel goes after. */
    /** TensorFlow's 'same' padding of an (h, w) input: {top, bottom, left, right}. */
    static long[] tfSamePadding(long h, long w, int[] k, int[] s) {
        long th = Math.max((ceilDiv(h, s[0]) - 1) * s[0] + k[0] - h, 0);
        long tw = Math.max((ceilDiv(w, s[1]) - 1) * s[1] + k[1] - w, 0);
        return new long[] {th / 2, th - th / 2, tw / 2, tw - tw / 2};
    }

    static NDArray tfSamePad(NDArray x, int[] k, int[] s, float value) {
        long h = x.getShape().get(2);
        long w = x.getShape().get(3);
        long th = Math.max((ceilDiv(h, s[0]) - 1) * s[0] + k[0] - h, 0);
        long tw = Math.max((ceilDiv(w, s[1]) - 1) * s[1] + k[1] - w, 0);
        if (th == 0 && tw == 0) {
            return x;
        }
        return x.pad(new Shape(tw / 2, tw - tw / 2, th / 2, th - th / 2), value);
    }

    static long outSize(long in, int k, int s, boolean same) {
        return same ? ceilDiv(in, s) : (in - k) / s + 1;
    }

    static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    static long numel(long[] shape) {
        return Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    }

    static int[] pair(JsonNode n, int dflt) {
        if (n.isArray() && n.size() == 2) {
            return new int[] {n.get(0).asInt(), n.get(1).asInt()};
        }
        if (n.isInt()) {
            return new int[] {n.asInt(), n.asInt()};
        }
        if (dflt < 0) {
            throw new IllegalArgumentException("expected a pair of integers, got " + n);
        }
        return new int[] {dflt, dflt};
    }

    /** ZeroPadding2D padding as {top, bottom, left, right}. */
    static int[] padding(JsonNode p) {
        if (p.isInt()) {
            int v = p.asInt();
            return new int[] {v, v, v, v};
        }
        if (p.isArray() && p.size() == 2 && p.get(0).isInt()) {
            return new int[] {p.get(0).asInt(), p.get(0).asInt(), p.get(1).asInt(), p.get(1).asInt()};
        }
        return new int[] {p.get(0).get(0).asInt(), p.get(0).get(1).asInt(), p.get(1).get(0).asInt(), p.get(1).get(1).asInt()};
    }
}
