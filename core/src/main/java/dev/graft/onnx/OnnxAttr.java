package dev.graft.onnx;

/** A node attribute (AttributeProto): an int, a float, a string or ints, by name. */
public record OnnxAttr(String name, Proto proto) {
    public static OnnxAttr of(String name, long v) {
        return new OnnxAttr(name, new Proto().string(1, name).varint(20, 2).varint(3, v));
    }

    public static OnnxAttr of(String name, float v) {
        return new OnnxAttr(name, new Proto().string(1, name).varint(20, 1).float32(2, v));
    }

    public static OnnxAttr of(String name, String v) {
        return new OnnxAttr(name, new Proto().string(1, name).varint(20, 3).string(4, v));
    }

    public static OnnxAttr of(String name, long[] v) {
        Proto p = new Proto().string(1, name).varint(20, 7);
        for (long x : v) {
            p.varint(8, x);
        }
        return new OnnxAttr(name, p);
    }
}
