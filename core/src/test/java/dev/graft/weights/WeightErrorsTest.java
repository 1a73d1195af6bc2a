package dev.graft.weights;

import dev.graft.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each broken weight file is a clear error naming the file and the problem. */
class WeightErrorsTest {
    @TempDir
    Path dir;

    void assertError(Path f, java.util.function.Function<Path, ?> reader, String... words) {
        WeightsException e = assertThrows(WeightsException.class, () -> reader.apply(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        for (String w : words) {
            assertTrue(e.getMessage().contains(w), "expected '" + w + "' in: " + e.getMessage());
        }
    }

    @Test
    void tinyPthSeedIsValid() throws Exception {
        Path f = Files.write(dir.resolve("tiny.pth"), TinyFiles.pth(TinyFiles.statePickle()));
        StateDict sd = PthReader.read(f);
        assertArrayEquals(new float[] {1, 2, 3, 4}, sd.get("conv.weight").toFloats());
    }

    @Test
    void truncatedPth() throws Exception {
        byte[] full = Files.readAllBytes(Shared.path("fixtures/torchvision/resnet18_seed0.pth"));
        Path f = Files.write(dir.resolve("trunc.pth"), Arrays.copyOf(full, full.length / 3));
        assertError(f, PthReader::read, "truncated");
    }

    @Test
    void zipWithoutTorchLayout() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(out)) {
            z.putNextEntry(new ZipEntry("readme.txt"));
            z.write("hello".getBytes(StandardCharsets.UTF_8));
        }
        Path f = Files.write(dir.resolve("plain.pth"), out.toByteArray());
        assertError(f, PthReader::read, "data.pkl");
    }

    @Test
    void storageMissingOrTooShort() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(out)) {
            z.putNextEntry(new ZipEntry("archive/data.pkl"));
            z.write(TinyFiles.statePickle());
            z.putNextEntry(new ZipEntry("archive/data/0"));
            z.write(new byte[8]);
        }
        Path f = Files.write(dir.resolve("short.pth"), out.toByteArray());
        assertError(f, PthReader::read, "storage '0'", "16");
    }

    ByteBuffer safetensors(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        return b;
    }

    Path write(String name, ByteBuffer b) throws Exception {
        return Files.write(dir.resolve(name), b.array());
    }

    @Test
    void safetensorsHeaderLengthPastTheFile() throws Exception {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).putLong(0);
        assertError(write("long.safetensors", b), SafeTensors::read, "header");
    }

    @Test
    void safetensorsOverlappingOffsets() throws Exception {
        String h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        assertError(write("overlap.safetensors", safetensors(h, 12)), SafeTensors::read, "overlaps");
    }

    @Test
    void safetensorsOutOfRangeOffsets() throws Exception {
        String h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}";
        assertError(write("range.safetensors", safetensors(h, 8)), SafeTensors::read, "outside the data section");
    }

    @Test
    void safetensorsUnknownDtypeAndShapeMismatch() throws Exception {
        String h = "{\"a\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        assertError(write("dtype.safetensors", safetensors(h, 8)), SafeTensors::read, "unknown dtype", "Q4");
        String h2 = "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}";
        assertError(write("shape.safetensors", safetensors(h2, 8)), SafeTensors::read, "needs 12 bytes");
    }

    @Test
    void tfjsShardSizesThatDoNotAddUpAndMissingShards() throws Exception {
        Path ok = dir.resolve("ok");
        TinyFiles.tfjs(ok);
        assertEquals(4, TfjsLayers.read(ok).weights().size());
        Path shard = ok.resolve("group1-shard1of1");
        byte[] bytes = Files.readAllBytes(shard);
        Files.write(shard, Arrays.copyOf(bytes, bytes.length - 4));
        assertError(ok.resolve("model.json"), TfjsLayers::read, "group 1", "bytes");
        Files.write(shard, Arrays.copyOf(bytes, bytes.length + 4));
        assertError(ok.resolve("model.json"), TfjsLayers::read, "group 1", "bytes");
        Files.delete(shard);
        assertError(ok.resolve("model.json"), TfjsLayers::read, "missing");
    }

    @Test
    void tfjsShardPathCannotEscapeTheFolder() throws Exception {
        Path ok = dir.resolve("esc");
        TinyFiles.tfjs(ok);
        Path mj = ok.resolve("model.json");
        Files.writeString(mj, Files.readString(mj).replace("\"group1-shard1of1\"", "\"../../etc/passwd\""));
        assertError(mj, TfjsLayers::read, "not a plain file");
    }

    @Test
    void nonFiniteWeightsAreCounted() {
        TensorData t = TensorData.ofFloats(new float[] {1, Float.NaN, Float.POSITIVE_INFINITY, 2}, 4);
        assertEquals(2, t.countNonFinite());
    }
}
