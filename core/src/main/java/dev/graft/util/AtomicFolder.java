package dev.graft.util;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Replaces a set of files in a folder all at once, so that a reader (or a crash at any moment) sees the folder's old
 * files or its new files, never a mix. The new files are written into a staging folder inside it ({@link #stage});
 * {@link #commit} syncs them and renames the staging folder to {@code .graft-commit} (the one atomic step: from then on
 * the new version exists), then moves each file over the old one and removes the old files the new version does not
 * have. A commit cut short by a crash is finished by the next {@link #recover} of that folder, which every reader of
 * graft's folders calls first; where the folder cannot be written, {@link #current} reads through the commit.
 */
public final class AtomicFolder {
    /** New files being written: not part of the folder until committed. */
    public static final String STAGING = ".graft-staging";
    /** A complete new version being moved into place. */
    public static final String COMMIT = ".graft-commit";
    /** Inside a commit: the names (files or folders) to remove from the folder once the new files are in place. */
    static final String OBSOLETE = ".graft-obsolete";

    private AtomicFolder() {
    }

    /** A new, empty staging folder inside {@code dir} (created if needed); an earlier unfinished staging is discarded. */
    public static Path stage(Path dir) throws IOException {
        recover(dir);
        Path s = dir.resolve(STAGING);
        deleteTree(s);
        Files.createDirectories(s);
        return s;
    }

    /**
     * Makes the files of {@code staged} (a folder directly inside {@code dir}) the folder's: they replace the files of
     * the same name, and the names in {@code obsolete} that the new version does not have are removed.
     */
    public static void commit(Path dir, Path staged, Collection<String> obsolete) throws IOException {
        if (!staged.toAbsolutePath().normalize().getParent().equals(dir.toAbsolutePath().normalize())) {
            throw new IllegalArgumentException(staged + " is not a folder directly inside " + dir);
        }
        recover(dir);
        List<String> names = files(staged);
        for (String n : names) {
            sync(staged.resolve(n));
        }
        List<String> remove = new ArrayList<>();
        for (String n : obsolete) {
            if (!names.contains(n) && !remove.contains(n)) {
                remove.add(n);
            }
        }
        Files.write(staged.resolve(OBSOLETE), remove, StandardCharsets.UTF_8);
        sync(staged.resolve(OBSOLETE));
        syncFolder(staged);
        Path c = dir.resolve(COMMIT);
        Files.move(staged, c, StandardCopyOption.ATOMIC_MOVE);
        syncFolder(dir);
        rollForward(dir, c);
    }

    /**
     * Finishes a commit that a crash cut short, so the folder holds its new version entirely; nothing to do
     * otherwise. Safe to call from several processes at once. Best effort: a folder that cannot be written is left as
     * it is and read through {@link #current}.
     */
    public static void recover(Path dir) {
        Path c = dir.resolve(COMMIT);
        if (Files.isDirectory(c)) {
            try {
                rollForward(dir, c);
            } catch (IOException | UncheckedIOException e) {
                // read-only, or another process is finishing it: readers go through current()
            }
        }
    }

    /** Where the folder's current version of a file is: inside a commit not yet moved into place, or in the folder. */
    public static Path current(Path dir, String name) {
        Path pending = dir.resolve(COMMIT).resolve(name);
        return Files.exists(pending) ? pending : dir.resolve(name);
    }

    /** True when the folder holds nothing, or only an unfinished staging folder (nothing that was ever committed). */
    public static boolean isEmpty(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.allMatch(p -> p.getFileName().toString().equals(STAGING));
        }
    }

    private static void rollForward(Path dir, Path c) throws IOException {
        List<String> names;
        try {
            names = files(c);
        } catch (NoSuchFileException e) {
            return; // another reader finished it
        }
        for (String n : names) {
            if (n.equals(OBSOLETE)) {
                continue;
            }
            try {
                Files.move(c.resolve(n), dir.resolve(n), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (NoSuchFileException e) {
                // moved by another reader finishing the same commit
            }
        }
        Path o = c.resolve(OBSOLETE);
        try {
            for (String n : Files.readAllLines(o, StandardCharsets.UTF_8)) {
                if (!n.isEmpty() && !n.contains("/") && !n.equals("..") && !n.equals(".")) {
                    deleteTree(dir.resolve(n));
                }
            }
            Files.deleteIfExists(o);
        } catch (NoSuchFileException e) {
            // removed by another reader
        }
        try {
            Files.deleteIfExists(c);
        } catch (DirectoryNotEmptyException | NoSuchFileException e) {
            // another reader is between its last move and this
        }
        syncFolder(dir);
    }

    private static List<String> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** Removes a file or a folder with everything in it; nothing when it does not exist. */
    public static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            Files.deleteIfExists(p);
            return;
        }
        try (Stream<Path> w = Files.walk(p)) {
            for (Path q : w.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        } catch (UncheckedIOException e) {
            if (!(e.getCause() instanceof NoSuchFileException)) {
                throw e.getCause();
            }
        }
    }

    private static void sync(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    /** The folder's entries made durable (where the platform allows syncing a folder). */
    private static void syncFolder(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // not every platform syncs folders; the renames are atomic either way
        }
    }
}
