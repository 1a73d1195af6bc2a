package dev.graft.model.nn;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

/**
 * The arithmetic of a network's forward and backward. BF16 runs convolutions and matrix products in bfloat16,
 * as {@code torch.autocast("cpu", dtype=torch.bfloat16)} does: master weights, optimizer state, BatchNorm
 * statistics, losses and softmax stay float32, and so do bundles, checkpoints and exports.
 */
public enum Precision {
    /** bf16 where the CPU computes it natively, else fp32; {@link #resolve()} decides. */
    AUTO, FP32, BF16;

    /** CPU flags (Linux /proc/cpuinfo) of native bfloat16 dot products; without them oneDNN emulates bf16, slower than fp32. */
    static final Set<String> BF16_FLAGS = Set.of("avx512_bf16", "amx_bf16");

    /** auto, fp32 or bf16 (as the command line spells them). */
    public static Precision parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "auto" -> AUTO;
            case "fp32", "float32", "float" -> FP32;
            case "bf16", "bfloat16" -> BF16;
            default -> throw new IllegalArgumentException("--precision must be auto, fp32 or bf16, not '" + s + "'");
        };
    }

    /** FP32 or BF16: auto picks bf16 only where the CPU has it natively. */
    public Precision resolve() {
        return this != AUTO ? this : nativeBf16() ? BF16 : FP32;
    }

    /**
     * Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX); the property graft.cpu_flags or the
     * variable GRAFT_CPU_FLAGS (space- or comma-separated flags) replaces what /proc/cpuinfo says.
     */
    public static boolean nativeBf16() {
        return cpuFlags().stream().anyMatch(BF16_FLAGS::contains);
    }

    /** Those of {@code flags} this CPU has, in the order given. */
    public static java.util.List<String> cpuFlagsAmong(String... flags) {
        Set<String> have = cpuFlags();
        return java.util.Arrays.stream(flags).filter(have::contains).toList();
    }

    /**
     * The machine that kernel choices hold for: the CPU's model and its flags that change kernels, the engine's
     * thread count and libtorch's version, and the variables that limit the instruction sets libtorch's kernels use
     * (per-machine tuning and the 1x1 kernel check are cached under it).
     */
    public static String machine() {
        StringBuilder limits = new StringBuilder();
        for (String v : new String[] {"ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS"}) {
            String value = System.getenv(v);
            if (value != null && !value.isBlank()) {
                limits.append(", ").append(v).append('=').append(value.trim());
            }
        }
        String libtorch = Torch.engine().getVersion(); // (loads the native library the thread count is read from)
        if (!OneDnnCaches.asTheCpuSaid()) {
            limits.append(", oneDNN caches ").append(OneDnnCaches.state());
        }
        return String.format(Locale.ROOT, "%s [%s] %d threads, libtorch %s%s", System.getProperty("graft.cpu_model", cpuModel()),
                String.join(" ", cpuFlagsAmong("avx2", "avx512f", "avx512_bf16", "amx_bf16", "avx512_vnni", "fma")),
                ai.djl.pytorch.jni.JniUtils.getNumThreads(), libtorch, limits);
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return System.getProperty("os.arch");
    }

    static Set<String> cpuFlags() {
        String forced = System.getProperty("graft.cpu_flags", System.getenv("GRAFT_CPU_FLAGS"));
        if (forced != null) {
            return Set.of(forced.trim().split("[\\s,]+"));
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("flags")) {
                    return Set.of(line.substring(line.indexOf(':') + 1).trim().split("\\s+"));
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: no flags known, float32
        }
        return Set.of();
    }

    /** A line for the log: what this choice resolves to and why (and where oneDNN's cache sizes were repaired, that). */
    public String describe() {
        return describePrecision() + (OneDnnCaches.repaired() ? "; oneDNN caches " + OneDnnCaches.state() : "");
    }

    private String describePrecision() {
        Precision chosen = resolve();
        if (this != AUTO) {
            return "precision: " + chosen.label() + (chosen == BF16 && !nativeBf16()
                    ? " (this CPU has no native bfloat16: emulated, slower than fp32)" : "");
        }
        return "precision: " + chosen.label() + (chosen == BF16 ? " (auto: the CPU has native bfloat16)"
                : " (auto: the CPU has no native bfloat16 units, AVX512-BF16 or AMX)");
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
