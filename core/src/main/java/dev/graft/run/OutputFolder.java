package dev.graft.run;

import dev.graft.util.AtomicFolder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The one output-folder policy of graft train, check, export and the Spark jobs' local folders: a folder graft
 * writes into is new or empty, or one graft wrote before and the user asked to replace; never a file, never somebody
 * else's folder, and compared on real paths (a symbolic link must not hide where a write lands).
 */
public final class OutputFolder {
    private OutputFolder() {
    }

    /**
     * The path with every symbolic link resolved, as far as it exists (the rest appended as written, normalised):
     * what a write to it would really touch.
     */
    public static Path real(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        Path existing = abs;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return abs;
        }
        try {
            return existing.toRealPath().resolve(existing.relativize(abs)).normalize();
        } catch (IOException e) {
            return abs;
        }
    }

    /**
     * Makes {@code dir} ready for a new {@code kind} ("run", "export") to be written into it: new or empty, or,
     * with {@code overwrite}, one that graft wrote before ({@code ours}); never a file or anybody else's folder.
     *
     * @param held   what an earlier one holds, for the message (" (a trained model)")
     * @param others other ways out, for the message (", --resume DIR to continue it")
     * @return whether an earlier one is there, to be replaced
     */
    public static boolean claim(Path dir, boolean overwrite, java.util.function.Predicate<Path> ours, String kind, String held, String others)
            throws IOException {
        boolean replacing = false;
        if (Files.isDirectory(dir) && !isEmpty(dir)) {
            if (!ours.test(dir)) {
                throw new IllegalArgumentException("--out " + dir + " is not empty and is not a graft " + kind + " folder; graft will not "
                        + "write into it. Choose a new or empty folder");
            }
            if (!overwrite) {
                throw new IllegalArgumentException("--out " + dir + " holds an earlier graft " + kind + held + "; add --overwrite to replace it"
                        + others + ", or choose another folder");
            }
            replacing = true;
        } else if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--out " + dir + " is a file, not a folder");
        }
        Files.createDirectories(dir);
        return replacing;
    }

    /** runs/<name>-1, -2, ...: the first that does not exist yet. */
    public static Path fresh(Path parent, String name) {
        for (int n = 1; ; n++) {
            Path p = parent.resolve(name + "-" + n);
            if (!Files.exists(p)) {
                return p;
            }
        }
    }

    /** Empty, or holding only an unfinished staging folder graft left (nothing was ever committed there). */
    public static boolean isEmpty(Path dir) throws IOException {
        return AtomicFolder.isEmpty(dir);
    }

}
