package dev.graft.weights;

import dev.graft.Shared;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A seeded mutation fuzzer for the three readers that parse strangers' files: safetensors, the pickle allowlist
 * (.pth) and TF.js. Each iteration mutates a valid seed (bit flips, interesting bytes, inserted/deleted/duplicated
 * runs, huge length fields, truncation) and reads it. The only acceptable outcomes are a result or a
 * WeightsException; anything else (a runtime exception, an Error) fails the test and saves the input under
 * target/fuzz-crashes/. The payload sentinel /tmp/graft-pwned must never appear. CI runs a bounded count
 * (-Dgraft.fuzz.iterations, default 1500 per reader); docs/RELIABILITY.md records a longer run.
 */
class FuzzTest {
    static final int ITERATIONS = Integer.getInteger("graft.fuzz.iterations", 1500);
    static final Path PWNED = Path.of("/tmp/graft-pwned");
    @TempDir
    Path dir;

    interface Reader {
        Object read(Path file) throws Exception;
    }

    static byte[] mutate(byte[] seed, Random r) {
        byte[] b = seed.clone();
        int n = 1 + r.nextInt(6);
        for (int i = 0; i < n && b.length > 0; i++) {
            int pos = r.nextInt(b.length);
            switch (r.nextInt(8)) {
                case 0 -> b[pos] ^= (byte) (1 << r.nextInt(8));
                case 1 -> b[pos] = new byte[] {0, (byte) 0xff, 0x7f, (byte) 0x80, 1, '\n', '.', 'c'}[r.nextInt(8)];
                case 2 -> b = Arrays.copyOf(b, Math.max(0, pos)); // truncate
                case 3 -> { // insert random bytes
                    byte[] ins = new byte[1 + r.nextInt(16)];
                    r.nextBytes(ins);
                    b = splice(b, pos, ins, 0);
                }
                case 4 -> { // delete a run
                    int len = Math.min(b.length - pos, 1 + r.nextInt(32));
                    b = splice(b, pos, new byte[0], len);
                }
                case 5 -> { // duplicate a run
                    int len = Math.min(b.length - pos, 1 + r.nextInt(64));
                    b = splice(b, pos, Arrays.copyOfRange(b, pos, pos + len), 0);
                }
                case 6 -> { // a huge little-endian length
                    if (pos + 4 <= b.length) {
                        ByteBuffer.wrap(b, pos, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(r.nextBoolean() ? Integer.MAX_VALUE : -1);
                    }
                }
                default -> { // ASCII digit change (shapes and offsets in JSON headers)
                    if (b[pos] >= '0' && b[pos] <= '9') {
                        b[pos] = (byte) ('0' + r.nextInt(10));
                    }
                }
            }
        }
        return b;
    }

    static byte[] splice(byte[] b, int pos, byte[] ins, int delete) {
        byte[] out = new byte[b.length - delete + ins.length];
        System.arraycopy(b, 0, out, 0, pos);
        System.arraycopy(ins, 0, out, pos, ins.length);
        System.arraycopy(b, pos + delete, out, pos + ins.length, b.length - pos - delete);
        return out;
    }

    /** Runs the loop; returns how many inputs were accepted and how many refused. */
    int[] fuzz(String name, List<byte[]> seeds, String fileName, Reader reader, long seed, java.util.function.Consumer<Path> prepare) throws Exception {
        return fuzz(name, seeds, fileName, reader, seed, prepare, b -> b);
    }

    int[] fuzz(String name, List<byte[]> seeds, String fileName, Reader reader, long seed, java.util.function.Consumer<Path> prepare,
               java.util.function.Function<byte[], byte[]> encode) throws Exception {
        Random r = new Random(seed);
        int accepted = 0;
        int refused = 0;
        Path work = Files.createDirectories(dir.resolve(name));
        prepare.accept(work);
        Path f = work.resolve(fileName);
        for (int i = 0; i < ITERATIONS; i++) {
            byte[] input = encode.apply(mutate(seeds.get(r.nextInt(seeds.size())), r));
            Files.write(f, input);
            try {
                reader.read(f);
                accepted++;
            } catch (WeightsException e) {
                refused++;
                assertTrue(e.getMessage().contains(f.toString()), "message names the file: " + e.getMessage());
            } catch (Throwable t) {
                Path crash = Files.createDirectories(Path.of("target/fuzz-crashes")).resolve(name + "-" + i);
                Files.write(crash, input);
                fail(name + " crashed on iteration " + i + " (input saved to " + crash + "): " + t, t);
            }
        }
        assertFalse(Files.exists(PWNED), "nothing may ever be executed");
        System.out.printf("fuzz %s: %d inputs, %d read, %d refused with a message, 0 crashes%n", name, ITERATIONS, accepted, refused);
        return new int[] {accepted, refused};
    }

    @Test
    void safetensorsReader() throws Exception {
        List<byte[]> seeds = List.of(Files.readAllBytes(Shared.path("fixtures/safetensors/mixed.safetensors")));
        int[] r = fuzz("safetensors", seeds, "x.safetensors", SafeTensors::read, 1, p -> { });
        assertTrue(r[1] > 0);
    }

    @Test
    void torchZipContainer() throws Exception {
        Files.deleteIfExists(PWNED);
        List<byte[]> seeds = List.of(TinyFiles.pth(TinyFiles.statePickle()),
                Files.readAllBytes(Shared.path("fixtures/torchvision/malicious.pth")));
        int[] res = fuzz("pth-zip", seeds, "x.pth", PthReader::read, 2, p -> { });
        assertTrue(res[1] > 0);
    }

    @Test
    void pickleAllowlist() throws Exception {
        Files.deleteIfExists(PWNED);
        // the pickle itself is mutated, then wrapped in a well-formed torch zip: this is where parsing happens
        byte[] malicious;
        try (java.util.zip.ZipFile z = new java.util.zip.ZipFile(Shared.path("fixtures/torchvision/malicious.pth").toFile())) {
            malicious = z.getInputStream(z.getEntry("archive/data.pkl")).readAllBytes();
        }
        List<byte[]> seeds = List.of(TinyFiles.statePickle(), malicious);
        int[] res = fuzz("pickle", seeds, "x.pth", PthReader::read, 4, p -> { }, b -> {
            try {
                return TinyFiles.pth(b);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        assertTrue(res[0] > 0 && res[1] > 0);
    }

    @Test
    @Tag("slow")
    void kerasHdf5Reader() throws Exception {
        Path seed = dir.resolve("seed.h5");
        try (io.jhdf.WritableHdfFile f = io.jhdf.HdfFile.write(seed)) {
            f.putAttribute("layer_names", new String[] {"dense"});
            io.jhdf.api.WritableGroup g = f.putGroup("dense");
            g.putAttribute("weight_names", new String[] {"dense/kernel:0", "dense/bias:0"});
            io.jhdf.api.WritableGroup inner = g.putGroup("dense");
            inner.putDataset("kernel:0", new float[][] {{1, 2}, {3, 4}, {5, 6}});
            inner.putDataset("bias:0", new float[] {0.5f, -0.5f});
        }
        assertTrue(KerasH5.read(seed).weights().size() == 2);
        int[] res = fuzz("keras-h5", List.of(Files.readAllBytes(seed)), "x.h5", KerasH5::read, 5, p -> { });
        assertTrue(res[1] > 0);
    }

    @Test
    void tfjsReader() throws Exception {
        Path seedDir = dir.resolve("seed");
        TinyFiles.tfjs(seedDir);
        byte[] json = Files.readAllBytes(seedDir.resolve("model.json"));
        byte[] shard = Files.readAllBytes(seedDir.resolve("group1-shard1of1"));
        int[] res = fuzz("tfjs", List.of(json), "model.json", TfjsLayers::read, 3, work -> {
            try {
                Files.write(work.resolve("group1-shard1of1"), shard);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        assertTrue(res[0] > 0 && res[1] > 0);
        assertTrue(new String(json, StandardCharsets.UTF_8).contains("weightsManifest"));
    }
}
