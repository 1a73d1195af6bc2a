package dev.graft.onnx;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A protocol-buffers message to write (the wire format: varints, 32-bit floats, length-delimited bytes and nested
 * messages), just what ONNX's ModelProto needs. Sizes are computed before writing, so a message streams straight
 * to its output and large tensors are never copied into a second buffer (ViT-B/16's weights are 344 MB).
 */
final class Proto {
    private static final int VARINT = 0;
    private static final int FIXED32 = 5;
    private static final int BYTES = 2;

    /** One field of a message: its encoded size and how to write it. */
    private interface Field {
        long size();

        void write(OutputStream out) throws IOException;
    }

    private final List<Field> fields = new ArrayList<>();
    private long size = -1;

    Proto varint(int number, long value) {
        byte[] b = concat(tag(number, VARINT), varint(value));
        return add(b);
    }

    Proto float32(int number, float value) {
        byte[] b = concat(tag(number, FIXED32), ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(value).array());
        return add(b);
    }

    Proto string(int number, String value) {
        return bytes(number, value.getBytes(StandardCharsets.UTF_8));
    }

    Proto bytes(int number, byte[] value) {
        return add(concat(tag(number, BYTES), varint(value.length), value));
    }

    /** A float array as raw little-endian bytes (TensorProto.raw_data). */
    Proto rawFloats(int number, float[] values) {
        byte[] head = concat(tag(number, BYTES), varint(4L * values.length));
        fields.add(new Field() {
            @Override
            public long size() {
                return head.length + 4L * values.length;
            }

            @Override
            public void write(OutputStream out) throws IOException {
                out.write(head);
                ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < values.length; ) {
                    int n = Math.min(values.length - i, buf.capacity() / 4);
                    buf.clear();
                    buf.asFloatBuffer().put(values, i, n);
                    out.write(buf.array(), 0, 4 * n);
                    i += n;
                }
            }
        });
        size = -1;
        return this;
    }

    Proto message(int number, Proto m) {
        fields.add(new Field() {
            @Override
            public long size() {
                long s = m.size();
                return tag(number, BYTES).length + varint(s).length + s;
            }

            @Override
            public void write(OutputStream out) throws IOException {
                out.write(tag(number, BYTES));
                out.write(varint(m.size()));
                m.write(out);
            }
        });
        size = -1;
        return this;
    }

    long size() {
        if (size < 0) {
            long s = 0;
            for (Field f : fields) {
                s += f.size();
            }
            size = s;
        }
        return size;
    }

    void write(OutputStream out) throws IOException {
        for (Field f : fields) {
            f.write(out);
        }
    }

    private Proto add(byte[] encoded) {
        fields.add(new Field() {
            @Override
            public long size() {
                return encoded.length;
            }

            @Override
            public void write(OutputStream out) throws IOException {
                out.write(encoded);
            }
        });
        size = -1;
        return this;
    }

    private static byte[] tag(int number, int wireType) {
        return varint(((long) number << 3) | wireType);
    }

    /** Base-128 varint; negative int64 values take ten bytes, as protobuf writes them. */
    static byte[] varint(long v) {
        byte[] buf = new byte[10];
        int n = 0;
        while ((v & ~0x7FL) != 0) {
            buf[n++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        buf[n++] = (byte) v;
        byte[] out = new byte[n];
        System.arraycopy(buf, 0, out, 0, n);
        return out;
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
