package dev.graft.model.nn;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.util.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * oneDNN's idea of the caches: found in the libtorch graft runs, never the 1-byte sizes of a VM that hides them once
 * the engine has started, and with them the 1x1 kernel computes the shapes it got wrong.
 */
class OneDnnCachesTest {

    @Test
    void theCpuObjectIsFoundInTheLibtorchGraftRuns() throws Exception {
        Torch.engine();
        OneDnnCaches.Mapping lib = OneDnnCaches.find();
        assertNotNull(lib, "libtorch_cpu.so is mapped");
        long[] s = OneDnnCaches.symbols(lib.path(), OneDnnCaches.CPU, OneDnnCaches.GUARD);
        assertNotNull(s, "symbols in " + lib.path());
        assertEquals(OneDnnCaches.OBJECT_SIZE, s[1], "the layout this libtorch build has");
    }

    /** The offsets are kept per libtorch file (path, size, time): a later start reads them back, another file does not. */
    @Test
    void theOffsetsAreKeptForTheLibtorchFileTheyCameFrom(@TempDir Path dir) throws Exception {
        Torch.engine();
        Path lib = OneDnnCaches.find().path();
        Path cache = dir.resolve("tuning/onednn-cpu-object.json");
        long[] read = OneDnnCaches.cachedSymbols(lib, cache);
        assertArrayEquals(OneDnnCaches.symbols(lib, OneDnnCaches.CPU, OneDnnCaches.GUARD), read);
        ObjectNode kept = (ObjectNode) Json.read(cache);
        assertEquals(read[0], kept.get("cpu").asLong(), kept.toString());
        // what is kept is what a later start uses (marked here so that it shows)
        Files.writeString(cache, Json.pretty(kept.put("guard", read[2] + 8)));
        assertEquals(read[2] + 8, OneDnnCaches.cachedSymbols(lib, cache)[2]);
        // kept for another file (here: another size) it is not used, and the table is read again
        Files.writeString(cache, Json.pretty(kept.put("size", kept.get("size").asLong() + 1)));
        assertArrayEquals(read, OneDnnCaches.cachedSymbols(lib, cache));
    }

    @Test
    void onceTheEngineRunsOneDnnHoldsNoOneByteCaches() throws Exception {
        String state = OneDnnCaches.state();
        assertTrue(state.startsWith("reported") || state.startsWith("none reported") || state.startsWith("repaired"), state);
        int[] sizes = sizes();
        // (no levels: oneDNN uses its own defaults, as on an Intel VM that hides leaf 4)
        for (int i = 0; i < sizes[3]; i++) {
            assertTrue(sizes[i] >= 1024, "L" + (i + 1) + " is " + sizes[i] + " bytes (" + state + ")");
        }
    }

    @Test
    void theOneByOneKernelComputesTheShapesItGotWrongWithOneByteCaches() {
        // the four float32 shapes libtorch's channels-last 1x1 kernel computed 6e-2 to 1.5e-1 off with 1-byte caches
        // (2026-12-07, AMD EPYC under Firecracker), checked in a child process as graft checks every shape
        List<String> wrong = List.of("128,512,7,7,1,1,fp32", "256,512,14,14,2,2,fp32", "960,320,7,7,1,1,fp32", "320,1280,7,7,1,1,fp32");
        Map<String, String> got = PointwiseProbe.probe(wrong);
        for (String k : wrong) {
            String e = got.get(k);
            assertNotNull(e, k + ": " + got);
            assertTrue(!e.equals("crashed") && Double.parseDouble(e) <= PointwiseProbe.tolerance(k), k + ": relative error " + e);
        }
    }

    @Test
    void sizesAreThreeAndPlausible() {
        assertArrayEquals(new int[] {49152, 1048576, 4194304}, OneDnnCaches.parse("49152,1048576 4194304"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OneDnnCaches.parse("1,1,1"));
        assertTrue(e.getMessage().contains("1 bytes is not a cache size"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> OneDnnCaches.parse("32768,524288"));
        assertTrue(e.getMessage().contains("GRAFT_ONEDNN_CACHES must be off, auto or three sizes"), e.getMessage());
    }

    /** L1, L2, L3 per core and the number of levels, as oneDNN holds them now. */
    private static int[] sizes() throws Exception {
        OneDnnCaches.Mapping lib = OneDnnCaches.find();
        long[] s = OneDnnCaches.symbols(lib.path(), OneDnnCaches.CPU, OneDnnCaches.GUARD);
        byte[] b = new byte[OneDnnCaches.OBJECT_SIZE];
        try (RandomAccessFile mem = new RandomAccessFile("/proc/self/mem", "r")) {
            mem.seek(lib.base() + s[0]);
            mem.readFully(b);
        }
        ByteBuffer w = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        return new int[] {w.getInt(OneDnnCaches.SIZES), w.getInt(OneDnnCaches.SIZES + 4), w.getInt(OneDnnCaches.SIZES + 8), w.getInt(OneDnnCaches.LEVELS)};
    }
}
