package dev.graft.app;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the user reads: libtorch writes its own warnings to the process's stderr, below Java, so a command is run in
 * a JVM of its own and everything it prints is read. A training step (forward, backward, the once-per-process kernel
 * checks) must not print the engine's "AutoNonVariableTypeMode is deprecated" warning.
 */
class EngineOutputTest {
    @Test
    void aTrainingStepPrintsNoEngineWarning() throws Exception {
        List<String> cmd = List.of(ProcessHandle.current().info().command().orElse("java"), "-cp", System.getProperty("java.class.path"),
                "dev.graft.app.Main", "bench", "--model", "resnet18", "--batch-size", "2", "--image-size", "32", "--iterations", "1",
                "--warmup", "0", "--mode", "train", "--precision", "fp32");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES));
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("images/s"), out);
        assertFalse(out.contains("AutoNonVariableTypeMode") || out.contains("Warning:"), out);
    }
}
