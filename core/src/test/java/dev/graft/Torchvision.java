package dev.graft;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's PyTorch and torchvision ({@code /usr/bin/python3}) as the reference that parity tests compare with:
 * runs a Python script that writes reference files into the build folder (nothing multi-megabyte is committed).
 * Tests are skipped where torch is missing, unless GRAFT_REQUIRE_TORCH is set (CI), where they fail.
 */
public final class Torchvision {
    private static Boolean available;

    private Torchvision() {
    }

    public static synchronized void require() throws Exception {
        if (available == null) {
            available = new ProcessBuilder("/usr/bin/python3", "-c", "import torch, torchvision").start().waitFor() == 0;
        }
        if (System.getenv("GRAFT_REQUIRE_TORCH") == null) {
            Assumptions.assumeTrue(available, "PyTorch is not installed (apt-get install python3-torch python3-torchvision)");
        } else if (!available) {
            throw new AssertionError("GRAFT_REQUIRE_TORCH is set but /usr/bin/python3 cannot import torch and torchvision");
        }
    }

    /** Runs {@code script} with {@code args}; returns its output, failing with it when the exit status is not 0. */
    public static String run(String script, String... args) throws Exception {
        require();
        Path file = Files.createTempFile("graft-ref", ".py");
        Files.writeString(file, script, StandardCharsets.UTF_8);
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/python3", file.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IOException("reference script failed:\n" + out);
        }
        Files.deleteIfExists(file);
        return out;
    }

    /** A folder under target/ for generated reference files. */
    public static Path workDir(String name) throws IOException {
        Path d = Path.of("target", "reference", name);
        Files.createDirectories(d);
        return d;
    }
}
