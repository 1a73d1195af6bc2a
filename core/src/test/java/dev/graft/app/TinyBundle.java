package dev.graft.app;

import dev.graft.Shared;
import dev.graft.util.AtomicFolder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** One small model trained once per test JVM (ResNet-18 body from the fixture, 64-pixel inputs), shared by tests. */
final class TinyBundle {
    private static Path dir;

    private TinyBundle() {
    }

    static synchronized Path get() throws IOException {
        if (dir == null) {
            Path d = Files.createTempDirectory("graft-bundle");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> { // shared by the JVM's tests: gone with the JVM
                try {
                    AtomicFolder.deleteTree(d);
                } catch (IOException e) {
                    System.err.println("could not delete the test bundle " + d + ": " + e);
                }
            }));
            String res = TrainCommandTest.run("train", "--recipe", "book", "--data", Shared.hotdog().toString(), "--model", "resnet18",
                    "--weights", Shared.path("fixtures/torchvision/resnet18_seed0.pth").toString(),
                    "--epochs", "1", "--batch-size", "8", "--per-class", "8", "--test-per-class", "4", "--image-size", "64",
                    "--lr", "1e-5", "--out", d.toString());
            if (!res.startsWith("0\n")) {
                throw new IllegalStateException("training the test bundle failed:\n" + res);
            }
            dir = d;
        }
        return dir;
    }
}
