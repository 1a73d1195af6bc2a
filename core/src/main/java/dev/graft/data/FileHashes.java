package dev.graft.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a file is, whatever it is called: its real path (links resolved) and the SHA-256 of its bytes. Two samples
 * are the same image when either matches (a symlink, or a copy). Digests are remembered per real path, size and
 * modification time, so the duplicate check at the start of a run, the data check and the feature cache read each
 * file once per process.
 */
public final class FileHashes {
    private record Known(long size, long modified, String sha256) {
    }

    private static final ConcurrentHashMap<Path, Known> KNOWN = new ConcurrentHashMap<>();

    private FileHashes() {
    }

    /** The file's path with every link resolved; the absolute, normalized path when it cannot be resolved (a dangling link). */
    public static Path realPath(Path file) {
        try {
            return file.toRealPath();
        } catch (IOException | SecurityException e) {
            return file.toAbsolutePath().normalize();
        }
    }

    /** The hex SHA-256 of the file's bytes, or null when it cannot be read. */
    public static String sha256(Path file) {
        Path real = realPath(file);
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(real, BasicFileAttributes.class);
        } catch (IOException | SecurityException e) {
            return null;
        }
        if (!attrs.isRegularFile()) {
            return null;
        }
        long size = attrs.size();
        long modified = attrs.lastModifiedTime().toMillis();
        Known k = KNOWN.get(real);
        if (k != null && k.size == size && k.modified == modified) {
            return k.sha256;
        }
        String hex = digest(real);
        if (hex != null) {
            KNOWN.put(real, new Known(size, modified, hex));
        }
        return hex;
    }

    private static String digest(Path file) {
        try {
            return dev.graft.util.Digests.of(file, "SHA-256");
        } catch (IOException | SecurityException e) {
            return null;
        }
    }
}
