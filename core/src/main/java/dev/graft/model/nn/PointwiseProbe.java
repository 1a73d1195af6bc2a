package dev.graft.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.util.Json;
import dev.graft.weights.Downloader;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Asks a child process whether libtorch's channels-last 1x1 kernel computes given shapes right here (see
 * {@link Conv2d.PointwiseCheck}): a kernel that divides by zero takes its process down, so it must not be graft's own.
 * The child prints one line per shape as it finishes; if it dies, the shape after its last line is the one that
 * killed it (recorded as wrong, "crashed") and a new child goes on with the rest. Answers are cached in
 * {@code <graft cache>/tuning/pointwise-<machine>.json}; shapes a child could not answer (it did not start, or ran
 * out of time) are the product in this process and asked again in the next.
 */
public final class PointwiseProbe {
    /**
     * A child's time for its shapes (each takes milliseconds, starting the engine a few seconds); a child still
     * running then is stopped and its unanswered shapes stay the product. {@code -Dgraft.probe.timeout_seconds} (tests).
     */
    static long timeoutSeconds() {
        return Long.getLong("graft.probe.timeout_seconds", 120);
    }

    private PointwiseProbe() {
    }

    /** Whether the kernel is right, for each of {@code keys} (a shape not answered: false, the product). */
    static Map<String, Boolean> answers(Set<String> keys) {
        String machine = Precision.machine();
        Path file = cacheFile(machine);
        Map<String, String> known = read(file, machine);
        List<String> ask = keys.stream().filter(k -> !known.containsKey(k)).toList();
        if (!ask.isEmpty()) {
            Map<String, String> got = probe(ask);
            if (!got.isEmpty()) {
                known.putAll(got);
                write(file, machine, known);
            }
        }
        Map<String, Boolean> out = new HashMap<>();
        for (String k : keys) {
            String v = known.get(k);
            out.put(k, v != null && !v.equals("crashed") && Double.parseDouble(v) < tolerance(k));
        }
        return out;
    }

    /** The answers of child processes for {@code keys}: the relative error, or "crashed". */
    static Map<String, String> probe(List<String> keys) {
        Torch.engine(); // the native library, before its thread count is read
        Path dir;
        try {
            // the children's working folder: a crash report (hs_err) lands there, not in the user's folder
            dir = Files.createTempDirectory("graft-pointwise-probe");
        } catch (IOException e) {
            return Map.of();
        }
        try {
            return probe(keys, dir);
        } finally {
            try (var files = Files.list(dir)) {
                files.forEach(f -> f.toFile().delete());
            } catch (IOException e) {
                // left in the temporary folder
            }
            dir.toFile().delete();
        }
    }

    private static Map<String, String> probe(List<String> keys, Path dir) {
        Map<String, String> got = new LinkedHashMap<>();
        List<String> left = new ArrayList<>(keys);
        while (!left.isEmpty()) {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
                    "-XX:-CreateCoredumpOnCrash", "-XX:ErrorFile=" + dir.resolve("hs_err_%p.log"),
                    "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=" + JniUtils.getNumThreads(), "-Dai.djl.pytorch.num_interop_threads=1",
                    "-cp", classPath(), PointwiseProbe.class.getName()));
            for (String hook : new String[] {"graft.probe.crash", "graft.probe.hang"}) {
                if (System.getProperty(hook) != null) {
                    cmd.add(1, "-D" + hook + "=" + System.getProperty(hook));
                }
            }
            cmd.addAll(left);
            Process p;
            try {
                p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            } catch (IOException e) {
                return got; // no child: these shapes stay the product
            }
            // the deadline holds while the child's output is read: a child that hangs is stopped, which ends the output
            java.util.concurrent.atomic.AtomicBoolean late = new java.util.concurrent.atomic.AtomicBoolean();
            Process child = p;
            p.onExit().completeOnTimeout(null, timeoutSeconds(), TimeUnit.SECONDS).thenRun(() -> {
                if (child.isAlive()) {
                    late.set(true);
                    child.destroyForcibly();
                }
            });
            int answered = 0;
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    String[] f = line.trim().split(" ");
                    if (f.length == 2 && answered < left.size() && f[0].equals(left.get(answered))) {
                        got.put(f[0], f[1]);
                        answered++;
                    }
                }
                p.waitFor();
            } catch (IOException e) {
                p.destroyForcibly();
                return got;
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                return got;
            }
            if (late.get()) {
                return got; // out of time: the rest unanswered, not wrong
            }
            left = new ArrayList<>(left.subList(answered, left.size()));
            if (left.isEmpty()) {
                break;
            }
            if (p.exitValue() == 0 || answered == 0 && p.exitValue() == 1) {
                return got; // finished without answering (or failed to start the engine): nothing learnt about the rest
            }
            got.put(left.get(0), "crashed"); // the shape it was computing when it died
            left.remove(0);
        }
        return got;
    }

    /**
     * The relative error of libtorch's channels-last 1x1 convolution (in float32, or bfloat16 as graft runs it)
     * against float64 on one shape.
     */
    static double error(String key) {
        String[] f = key.split(",");
        int in = Integer.parseInt(f[0]);
        int out = Integer.parseInt(f[1]);
        long h = Long.parseLong(f[2]);
        long w = Long.parseLong(f[3]);
        Shape stride = new Shape(Long.parseLong(f[4]), Long.parseLong(f[5]));
        boolean bf16 = f[6].equals("bf16");
        try (NDManager m = Torch.newManager()) {
            // deterministic values without touching the engine's random generator
            NDArray weight = m.arange(out * in).toType(DataType.FLOAT32, false).mul(0.37).sin().mul(0.05).reshape(out, in, 1, 1);
            NDArray bias = m.arange(out).toType(DataType.FLOAT32, false).cos();
            NDArray x = m.arange(2L * in * h * w).toType(DataType.FLOAT32, false).mul(0.11).sin().reshape(2, in, h, w);
            java.util.function.UnaryOperator<NDArray> cast = bf16 ? Ops.BFLOAT16::apply : v -> v;
            NDArray a = Ops.toFloat32(JniUtils.convolution((PtNDArray) cast.apply(Compute.toChannelsLast(x)), (PtNDArray) cast.apply(weight),
                    (PtNDArray) cast.apply(bias), stride, new Shape(0, 0), new Shape(1, 1), 1));
            NDArray ref = JniUtils.convolution((PtNDArray) x.toType(DataType.FLOAT64, false), (PtNDArray) weight.toType(DataType.FLOAT64, false),
                    (PtNDArray) bias.toType(DataType.FLOAT64, false), stride, new Shape(0, 0), new Shape(1, 1), 1);
            NDArray r = ref.toType(DataType.FLOAT32, false);
            return a.sub(r).norm().getFloat() / (double) r.norm().getFloat();
        }
    }

    /**
     * Within rounding: in float32 the right shapes measured at most 2.4e-7, the wrong ones 6e-2 and more; bfloat16's
     * own rounding of inputs and weights (8 bits) puts a right shape near 4e-3.
     */
    static double tolerance(String key) {
        return key.endsWith(",bf16") ? 2e-2 : 1e-4;
    }

    /** This process's class path with absolute entries (the child runs in another folder). */
    private static String classPath() {
        return java.util.Arrays.stream(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
                .map(e -> e.isEmpty() ? e : Path.of(e).toAbsolutePath().toString()).collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
    }

    /** The child: the relative error of each shape given, one line each, as soon as it is known. */
    public static void main(String[] args) {
        Torch.engine();
        String crash = System.getProperty("graft.probe.crash");
        String hang = System.getProperty("graft.probe.hang");
        for (String key : args) {
            if (key.equals(crash)) {
                Runtime.getRuntime().halt(134); // tests: a kernel that takes its process down
            }
            while (key.equals(hang)) {
                try {
                    Thread.sleep(1000); // tests: a kernel that never returns
                } catch (InterruptedException e) {
                    return;
                }
            }
            double e = error(key);
            System.out.println(key + " " + String.format(Locale.ROOT, "%.3e", e));
            System.out.flush();
        }
        System.exit(0);
    }

    static Path cacheFile(String machine) {
        return Downloader.defaultCache().resolve("tuning").resolve("pointwise-" + Integer.toHexString(machine.hashCode()) + ".json");
    }

    private static Map<String, String> read(Path file, String machine) {
        Map<String, String> m = new HashMap<>();
        try {
            JsonNode n = Json.read(file);
            if (n.path("machine").asText().equals(machine)) {
                n.path("shapes").fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue().asText()));
            }
        } catch (IOException | RuntimeException e) {
            // none yet, or unreadable: asked again
        }
        return m;
    }

    private static void write(Path file, String machine, Map<String, String> shapes) {
        try {
            ObjectNode root = Json.object();
            root.put("machine", machine);
            ObjectNode s = root.putObject("shapes");
            new java.util.TreeMap<>(shapes).forEach(s::put);
            Json.writeAtomically(file, root);
        } catch (IOException e) {
            // a cache that cannot be written costs a probe next time, nothing else
        }
    }
}
