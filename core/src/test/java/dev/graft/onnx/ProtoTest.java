package dev.graft.onnx;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The protobuf wire format as protobuf's encoding guide gives it, byte for byte. */
class ProtoTest {
    static byte[] bytes(Proto p) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        p.write(out);
        assertEquals(out.size(), p.size(), "the size written is the size announced");
        return out.toByteArray();
    }

    static byte[] b(int... v) {
        byte[] out = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (byte) v[i];
        }
        return out;
    }

    @Test
    void varintsStringsFloatsAndNestedMessages() throws Exception {
        // the guide's examples: field 1 = 150 is 08 96 01; field 2 = "testing" is 12 07 74 65 73 74 69 6e 67
        assertArrayEquals(b(0x08, 0x96, 0x01), bytes(new Proto().varint(1, 150)));
        assertArrayEquals(b(0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g'), bytes(new Proto().string(2, "testing")));
        // field 3 holding the first message: 1a 03 08 96 01
        assertArrayEquals(b(0x1a, 0x03, 0x08, 0x96, 0x01), bytes(new Proto().message(3, new Proto().varint(1, 150))));
        // int64 -1 takes ten bytes; field 14 has a two-byte tag
        assertArrayEquals(b(0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), bytes(new Proto().varint(1, -1)));
        assertArrayEquals(b(0x72, 0x00), bytes(new Proto().string(14, "")));
        // a float is fixed32, little-endian: 1.0f = 00 00 80 3f
        assertArrayEquals(b(0x15, 0x00, 0x00, 0x80, 0x3f), bytes(new Proto().float32(2, 1f)));
        // raw float data, longer than the writer's buffer, length-delimited
        float[] many = new float[40_000];
        for (int i = 0; i < many.length; i++) {
            many[i] = i;
        }
        byte[] raw = bytes(new Proto().rawFloats(9, many));
        assertEquals(0x4a, raw[0] & 0xff);
        assertArrayEquals(Proto.varint(160_000), java.util.Arrays.copyOfRange(raw, 1, 4));
        assertEquals(39_999f, java.nio.ByteBuffer.wrap(raw, raw.length - 4, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getFloat());
    }
}
