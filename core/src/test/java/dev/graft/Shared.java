package dev.graft;

import java.nio.file.Files;
import java.nio.file.Path;

/** The read-only fixtures and data beside the repository ({@code ../shared}); tests read them in place. */
public final class Shared {
    private Shared() {
    }

    public static Path path(String relative) {
        Path root = Path.of(System.getProperty("graft.shared", "../shared"));
        Path p = root.resolve(relative);
        if (!Files.exists(p)) {
            throw new IllegalStateException("test fixture " + p.toAbsolutePath() + " is missing: tests need ../shared beside the repository");
        }
        return p;
    }

    public static Path hotdog() {
        return path("data/hotdog");
    }
}
