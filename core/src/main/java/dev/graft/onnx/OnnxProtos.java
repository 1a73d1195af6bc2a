package dev.graft.onnx;

import java.util.List;
import java.util.Map;

/** The ONNX protobuf messages {@link OnnxGraph} writes (ModelProto, NodeProto, TensorProto, ValueInfoProto), and broadcasting. */
final class OnnxProtos {
    private OnnxProtos() {
    }

    /** The ModelProto around a graph's nodes, weights, inputs and outputs: opset 17, the producer, the metadata (in order). */
    static Proto model(OnnxGraph.ModelInfo info, List<Proto> nodes, List<Proto> initializers, List<Proto> inputs, List<Proto> outputs) {
        Proto g = new Proto();
        nodes.forEach(n -> g.message(1, n));
        g.string(2, info.graphName());
        initializers.forEach(t -> g.message(5, t));
        inputs.forEach(i -> g.message(11, i));
        outputs.forEach(o -> g.message(12, o));
        Proto m = new Proto().varint(1, OnnxGraph.IR_VERSION).string(2, "graft").string(3, info.producerVersion());
        if (info.doc() != null) {
            m.string(6, info.doc());
        }
        m.message(7, g);
        m.message(8, new Proto().string(1, "").varint(2, OnnxGraph.OPSET));
        for (Map.Entry<String, String> e : info.metadata().entrySet()) {
            m.message(14, new Proto().string(1, e.getKey()).string(2, e.getValue()));
        }
        return m;
    }

    static Proto tensor(String name, long... dims) {
        Proto t = new Proto();
        for (long d : dims) {
            t.varint(1, d);
        }
        return t.string(8, name);
    }

    static Proto nodeProto(String op, String name, List<String> in, List<String> out, List<OnnxAttr> attrs) {
        Proto n = new Proto();
        in.forEach(i -> n.string(1, i));
        out.forEach(o -> n.string(2, o));
        n.string(3, name).string(4, op);
        attrs.forEach(a -> n.message(5, a.proto()));
        return n;
    }

    static Proto valueInfo(String name, long[] shape) {
        Proto dims = new Proto();
        for (long d : shape) {
            dims.message(1, d < 0 ? new Proto().string(2, "N") : new Proto().varint(1, d));
        }
        Proto tensorType = new Proto().varint(1, OnnxGraph.FLOAT).message(2, dims);
        return new Proto().string(1, name).message(2, new Proto().message(1, tensorType));
    }

    static long[] broadcast(long[] a, long[] b) {
        int n = Math.max(a.length, b.length);
        long[] s = new long[n];
        for (int i = 0; i < n; i++) {
            long x = i < n - a.length ? 1 : a[i - (n - a.length)];
            long y = i < n - b.length ? 1 : b[i - (n - b.length)];
            s[i] = x == 1 ? y : (y == 1 ? x : (x == -1 ? y : x));
        }
        return s;
    }
}
