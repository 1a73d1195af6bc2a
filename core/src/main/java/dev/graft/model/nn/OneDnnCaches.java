package dev.graft.model.nn;

import com.fasterxml.jackson.databind.JsonNode;
import dev.graft.util.Json;
import dev.graft.weights.Downloader;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

/**
 * Gives libtorch's oneDNN the cache sizes of a CPU whose virtual machine hides them.
 *
 * <p>oneDNN 3.x (inside libtorch 2.7.1) sizes the blocking of its convolutions from the per-core L1, L2 and L3
 * sizes, which its copy of Xbyak reads on AMD from CPUID leaf 0x8000001D. Some hypervisors (Firecracker, for one)
 * set the topology-extensions flag but return zeros in that leaf; Xbyak then computes every level as
 * {@code (0+1) * (0+1) * (0+1) * (0+1)} = 1 byte. oneDNN takes that at its word: its 1x1 convolutions in
 * channels-last compute wrong values on some shapes, crash with SIGFPE on others ({@code est_eff_1x1}), and the rest
 * of its convolutions block for a 1-byte cache (slower than PyTorch 1.13's older oneDNN, whose Xbyak does not read
 * AMD's caches and so falls back to oneDNN's defaults). A CPU with 1-byte caches does not exist, so where exactly
 * that is what oneDNN holds, graft writes oneDNN's own defaults for an unknown CPU (32 KiB, 512 KiB, 1 MiB per
 * core, {@code platform::get_per_core_cache_size}) into the object it reads them from, before any convolution is
 * created. It finds that object by its symbol in libtorch's symbol table and changes nothing unless the layout it
 * expects holds the 1-byte signature; on a machine that reports its caches it only reads.
 *
 * <p>{@code GRAFT_ONEDNN_CACHES=off} (or the property graft.onednn_caches) leaves oneDNN as it is;
 * {@code =L1,L2,L3} (bytes per core) writes those sizes instead. {@link #state()} says what happened, and the
 * machine signature that per-machine choices are cached under includes it where oneDNN's sizes were changed.
 */
public final class OneDnnCaches {
    static final String CPU = "_ZZN4dnnl4impl3cpu3x643cpuEvE4cpu_";
    static final String GUARD = "_ZGVZN4dnnl4impl3cpu3x643cpuEvE4cpu_";
    /** Offsets in libtorch 2.7.1's Xbyak::util::Cpu (from the code of get_per_core_cache_size). */
    static final int SIZES = 0x1c, SHARING = 0x44, LEVELS = 0x6c, OBJECT_SIZE = 144;
    /** oneDNN's own assumption for a CPU that reports no caches. */
    static final int[] ONEDNN_DEFAULTS = {32 * 1024, 512 * 1024, 1024 * 1024};

    private static String state;
    private static boolean checking;

    private OneDnnCaches() {
    }

    /**
     * What was found and done, for logs and the machine signature: "reported: L1/L2/L3 KiB" (per core, as the CPU
     * said), "none reported: oneDNN's defaults", "repaired: ...", "off", or why it was not checked.
     */
    public static synchronized String state() {
        if (state == null && !checking) { // (the convolution that initialises oneDNN comes back here: it waits for nothing)
            checking = true;
            try {
                state = repair();
            } finally {
                checking = false;
            }
        }
        return state == null ? "being checked" : state;
    }

    /** Whether oneDNN holds what the CPU said (sizes it reported, or none and oneDNN's defaults): nothing was changed. */
    public static boolean asTheCpuSaid() {
        String s = state();
        return s.startsWith("reported") || s.startsWith("none reported");
    }

    /** Whether graft wrote sizes into oneDNN (the 1-byte caches of a VM that hides them). */
    public static boolean repaired() {
        return state().startsWith("repaired");
    }

    private static String repair() {
        String setting = System.getProperty("graft.onednn_caches", System.getenv("GRAFT_ONEDNN_CACHES"));
        setting = setting == null ? "" : setting.trim().toLowerCase(Locale.ROOT);
        if (setting.equals("off")) {
            return "off";
        }
        int[] sizes = ONEDNN_DEFAULTS;
        if (!setting.isEmpty() && !setting.equals("auto")) {
            sizes = parse(setting);
        }
        try {
            ai.djl.engine.Engine.getEngine("PyTorch"); // (maps libtorch)
            Mapping lib = find();
            if (lib == null) {
                return "no libtorch_cpu.so mapped";
            }
            long[] syms = cachedSymbols(lib.path, Downloader.defaultCache().resolve("tuning").resolve("onednn-cpu-object.json"));
            if (syms == null) {
                return "no oneDNN CPU object in " + lib.path.getFileName();
            }
            long cpu = lib.base + syms[0];
            long guard = lib.base + syms[2];
            try (RandomAccessFile mem = new RandomAccessFile("/proc/self/mem", "rw")) {
                if (syms[1] != OBJECT_SIZE) {
                    return "oneDNN's CPU object not as expected (" + syms[1] + " bytes)";
                }
                if (readBytes(mem, guard, 1)[0] == 0) {
                    initialise();
                    if (readBytes(mem, guard, 1)[0] == 0) {
                        return "oneDNN's CPU object not initialised by a convolution";
                    }
                }
                ByteBuffer b = ByteBuffer.wrap(readBytes(mem, cpu, OBJECT_SIZE)).order(ByteOrder.LITTLE_ENDIAN);
                int levels = b.getInt(LEVELS);
                int[] now = new int[3];
                boolean oneByte = levels == 3;
                for (int i = 0; i < 3; i++) {
                    now[i] = b.getInt(SIZES + 4 * i);
                    oneByte &= now[i] == 1 && b.getInt(SHARING + 4 * i) == 1;
                }
                if (levels == 0) {
                    return "none reported: oneDNN's defaults";
                }
                if (!oneByte) {
                    return String.format(Locale.ROOT, "reported: %d/%d/%d KiB", now[0] / 1024, now[1] / 1024, now[2] / 1024);
                }
                ByteBuffer w = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
                for (int s : sizes) {
                    w.putInt(s);
                }
                mem.seek(cpu + SIZES);
                mem.write(w.array());
                if (!java.util.Arrays.equals(readBytes(mem, cpu + SIZES, 12), w.array())) {
                    return "1-byte caches reported; writing oneDNN's sizes did not hold";
                }
                return String.format(Locale.ROOT, "repaired: the CPU reports 1-byte caches, set to %d/%d/%d KiB",
                        sizes[0] / 1024, sizes[1] / 1024, sizes[2] / 1024);
            }
        } catch (IOException | RuntimeException e) {
            return "not checked (" + e.getMessage() + ")";
        }
    }

    /**
     * oneDNN reads the CPU on first use: one tiny convolution (2 images of 3x5x5, a 3x3 kernel: a shape no network
     * graft builds has) makes it do so, and only that convolution is blocked for the 1-byte caches.
     */
    private static void initialise() {
        try (ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager(Torch.engine().defaultDevice(), "PyTorch")) {
            ai.djl.pytorch.engine.PtNDArray x = (ai.djl.pytorch.engine.PtNDArray) m.ones(new ai.djl.ndarray.types.Shape(2, 3, 5, 5));
            ai.djl.pytorch.engine.PtNDArray w = (ai.djl.pytorch.engine.PtNDArray) m.ones(new ai.djl.ndarray.types.Shape(4, 3, 3, 3));
            Torch.noGrad(() -> ai.djl.pytorch.jni.JniUtils.convolution(x, w, null, new ai.djl.ndarray.types.Shape(1, 1),
                    new ai.djl.ndarray.types.Shape(0, 0), new ai.djl.ndarray.types.Shape(1, 1), 1).close());
        }
    }

    static int[] parse(String setting) {
        String[] parts = setting.split("[,\\s]+");
        if (parts.length != 3) {
            throw new IllegalArgumentException("GRAFT_ONEDNN_CACHES must be off, auto or three sizes in bytes (L1,L2,L3 per core), not '" + setting + "'");
        }
        int[] s = new int[3];
        for (int i = 0; i < 3; i++) {
            s[i] = Integer.parseInt(parts[i]);
            if (s[i] < 1024) {
                throw new IllegalArgumentException("GRAFT_ONEDNN_CACHES: " + parts[i] + " bytes is not a cache size");
            }
        }
        return s;
    }

    record Mapping(Path path, long base) {
    }

    /** libtorch_cpu.so's mapping at file offset 0 (its first load segment has address 0, so that is its base). */
    static Mapping find() throws IOException {
        Path maps = Path.of("/proc/self/maps");
        if (!Files.isReadable(maps)) {
            return null;
        }
        for (String line : Files.readAllLines(maps)) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 6 && f[5].endsWith("/libtorch_cpu.so") && Long.parseLong(f[2], 16) == 0) {
                return new Mapping(Path.of(f[5]), Long.parseUnsignedLong(f[0].substring(0, f[0].indexOf('-')), 16));
            }
        }
        return null;
    }

    /**
     * {@link #symbols} of the CPU object and its guard in {@code elf}, kept in {@code cache} for that file (its path, size
     * and modification time): the symbol table of libtorch_cpu.so holds 520,000 symbols, and reading it took 60-70 ms
     * with the file in the page cache (0.75 s once, the first time), against 5 ms from the cache (2026-12-07, AMD EPYC),
     * at every start of graft and of each 1x1 probe child. What the offsets point at is
     * checked as before (the object's size, the guard, the exact 1-byte signature) whether they came from the cache or not.
     */
    static long[] cachedSymbols(Path elf, Path cache) throws IOException {
        String file = elf.toAbsolutePath().toString();
        long size = Files.size(elf);
        long modified = Files.getLastModifiedTime(elf).toMillis();
        try {
            JsonNode c = Json.read(cache);
            if (c.path("file").asText().equals(file) && c.path("size").asLong() == size && c.path("modified").asLong() == modified
                    && c.path("cpu").canConvertToLong() && c.path("guard").canConvertToLong()) {
                return new long[] {c.path("cpu").asLong(), c.path("cpu_size").asLong(), c.path("guard").asLong()};
            }
        } catch (IOException | RuntimeException e) {
            // none yet, or unreadable: read the symbol table
        }
        long[] syms = symbols(elf, CPU, GUARD);
        if (syms != null) {
            try {
                Json.writeAtomically(cache, Json.object().put("file", file).put("size", size).put("modified", modified)
                        .put("cpu", syms[0]).put("cpu_size", syms[1]).put("guard", syms[2]));
            } catch (IOException e) {
                // a cache that cannot be written costs a read of the symbol table next time, nothing else
            }
        }
        return syms;
    }

    /**
     * The address and size of symbol {@code a} and the address of {@code b}, from the ELF symbol table, or null
     * where the file has none of them (a stripped build) or its first load segment is not at address 0.
     */
    static long[] symbols(Path elf, String a, String b) throws IOException {
        try (FileChannel ch = FileChannel.open(elf, StandardOpenOption.READ)) {
            ByteBuffer h = ch.map(FileChannel.MapMode.READ_ONLY, 0, 64).order(ByteOrder.LITTLE_ENDIAN);
            if (h.getInt(0) != 0x464c457f || h.get(4) != 2) {
                return null;
            }
            long phoff = h.getLong(0x20), shoff = h.getLong(0x28);
            int phentsize = h.getShort(0x36) & 0xffff, phnum = h.getShort(0x38) & 0xffff;
            int shentsize = h.getShort(0x3a) & 0xffff, shnum = h.getShort(0x3c) & 0xffff;
            ByteBuffer ph = ch.map(FileChannel.MapMode.READ_ONLY, phoff, (long) phentsize * phnum).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < phnum; i++) {
                if (ph.getInt(i * phentsize) == 1) { // the first PT_LOAD
                    if (ph.getLong(i * phentsize + 8) != 0 || ph.getLong(i * phentsize + 16) != 0) {
                        return null;
                    }
                    break;
                }
            }
            ByteBuffer sh = ch.map(FileChannel.MapMode.READ_ONLY, shoff, (long) shentsize * shnum).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < shnum; i++) {
                if (sh.getInt(i * shentsize + 4) != 2) { // SHT_SYMTAB
                    continue;
                }
                long symOff = sh.getLong(i * shentsize + 0x18), symSize = sh.getLong(i * shentsize + 0x20);
                int link = sh.getInt(i * shentsize + 0x28);
                long strOff = sh.getLong(link * shentsize + 0x18), strSize = sh.getLong(link * shentsize + 0x20);
                MappedByteBuffer strtab = ch.map(FileChannel.MapMode.READ_ONLY, strOff, strSize);
                MappedByteBuffer symtab = ch.map(FileChannel.MapMode.READ_ONLY, symOff, symSize);
                symtab.order(ByteOrder.LITTLE_ENDIAN);
                byte[] na = (a + "\0").getBytes(StandardCharsets.US_ASCII), nb = (b + "\0").getBytes(StandardCharsets.US_ASCII);
                long[] out = {-1, -1, -1};
                for (long s = 0; s + 24 <= symSize && (out[0] < 0 || out[2] < 0); s += 24) {
                    int name = symtab.getInt((int) s);
                    if (out[0] < 0 && named(strtab, name, na)) {
                        out[0] = symtab.getLong((int) s + 8);
                        out[1] = symtab.getLong((int) s + 16);
                    } else if (out[2] < 0 && named(strtab, name, nb)) {
                        out[2] = symtab.getLong((int) s + 8);
                    }
                }
                return out[0] < 0 || out[2] < 0 ? null : out;
            }
            return null;
        }
    }

    private static boolean named(ByteBuffer strtab, int at, byte[] name) {
        if (at < 0 || at + name.length > strtab.limit()) {
            return false;
        }
        for (int i = 0; i < name.length; i++) {
            if (strtab.get(at + i) != name[i]) {
                return false;
            }
        }
        return true;
    }

    private static byte[] readBytes(RandomAccessFile mem, long at, int n) throws IOException {
        byte[] out = new byte[n];
        mem.seek(at);
        mem.readFully(out);
        return out;
    }
}
