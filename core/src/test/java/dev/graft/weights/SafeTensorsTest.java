package dev.graft.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.graft.Shared;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class SafeTensorsTest {

    @Test
    void readsEveryDtypeExactlyWithMetadata() throws Exception {
        JsonNode expected = new ObjectMapper().readTree(Shared.path("fixtures/safetensors/mixed.json").toFile());
        StateDict sd = SafeTensors.read(Shared.path("fixtures/safetensors/mixed.safetensors"));
        assertEquals(List.of("a.f32", "b.f16", "c.bf16", "d.i64"), List.copyOf(sd.names()));
        assertEquals("pt", sd.metadata().get("format"));
        assertEquals(expected.at("/metadata/source").asText(), sd.metadata().get("source"));
        expected.get("tensors").fields().forEachRemaining(e -> {
            TensorData t = sd.get(e.getKey());
            JsonNode spec = e.getValue();
            assertEquals(spec.get("dtype").asText(), t.dtype().name());
            long[] shape = new long[spec.get("shape").size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = spec.get("shape").get(i).asLong();
            }
            assertArrayEquals(shape, t.shape());
            if (t.dtype() == DType.I64) {
                long[] want = new long[spec.get("values").size()];
                for (int i = 0; i < want.length; i++) {
                    want[i] = spec.get("values").get(i).asLong();
                }
                assertArrayEquals(want, t.toLongs(), e.getKey());
            } else {
                float[] want = new float[spec.get("values").size()];
                for (int i = 0; i < want.length; i++) {
                    want[i] = (float) spec.get("values").get(i).asDouble();
                }
                assertArrayEquals(want, t.toFloats(), 0f, e.getKey());
            }
        });
    }

    @Test
    void writeThenReadGivesTheSameTensors() throws Exception {
        StateDict sd = SafeTensors.read(Shared.path("fixtures/safetensors/mixed.safetensors"));
        Path out = Files.createTempFile("graft", ".safetensors");
        SafeTensors.write(sd, out);
        StateDict back = SafeTensors.read(out);
        assertEquals(sd.names(), back.names());
        assertEquals(sd.metadata(), back.metadata());
        for (String k : sd.names()) {
            assertEquals(sd.get(k).dtype(), back.get(k).dtype());
            assertArrayEquals(sd.get(k).shape(), back.get(k).shape());
            assertEquals(sd.get(k).bytes(), back.get(k).bytes(), k);
        }
    }

    @Test
    void halfAndBfloatConversionsRoundTrip() {
        for (float f : new float[] {0f, 1f, -2.5f, 0.1f, 65504f, 6.1e-5f, 3e-7f}) {
            float h = DType.halfToFloat(DType.floatToHalf(f));
            assertEquals(f, h, Math.abs(f) * 1e-3 + 6e-8, "half " + f);
        }
        assertEquals(Float.POSITIVE_INFINITY, DType.halfToFloat(DType.floatToHalf(1e6f)));
        assertEquals(3.140625f, DType.bf16ToFloat(DType.floatToBf16((float) Math.PI)));
        assertEquals(Arrays.toString(new float[] {1f}), Arrays.toString(new float[] {DType.bf16ToFloat((short) 0x3F80)}));
    }
}
