package dev.graft.spark;

import org.apache.spark.SparkContext;
import org.apache.spark.SparkFiles;

import java.io.IOException;
import java.io.OutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * A file or folder (a bundle, source weights) that every executor needs, and how it gets there. The driver decides
 * ({@link #of}); executors ask for their local copy ({@link #local}).
 * <ul>
 * <li>a path on a shared or local file system, in local mode (or with {@link Ship#NEVER}): read in place;</li>
 * <li>a local file or folder, on a cluster: zipped once and sent with {@code SparkContext.addArchive} under a name
 * that carries a hash of its content, unpacked by each executor; a file or folder replaced at the same path during
 * the application is therefore sent again under a new name, never confused with the copy sent before;</li>
 * <li>a Hadoop URI (hdfs://, s3a://, ...): {@code SparkContext.addFile(uri, recursive)}, folders included. Spark sends
 * a URI once per application under its name; if it changes later in the application (its files' sizes or times),
 * graft refuses to use the stale copy and says so.</li>
 * </ul>
 */
public final class Shipped implements Serializable {
    private static final long serialVersionUID = 1L;

    /** When to send the path with the job. */
    public enum Ship {
        /** in place in local mode, shipped on a cluster (Hadoop URIs always shipped) */
        AUTO,
        /** always shipped, even in local mode */
        ALWAYS,
        /** never: the path must be readable on every executor (a shared file system) */
        NEVER;

        public static Ship parse(String s) {
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("ship must be auto, always or never, not '" + s + "'");
            }
        }
    }

    /** Driver side: what each SparkContext was sent, by the name executors look up. */
    private static final Map<String, String> SENT = new ConcurrentHashMap<>();

    private final String given;
    private final String localPath;
    private final String sparkFilesName;
    /** Inside a shipped archive of one file: that file's name (null: the archive is the folder itself). */
    private final String inside;

    private Shipped(String given, String localPath, String sparkFilesName) {
        this(given, localPath, sparkFilesName, null);
    }

    private Shipped(String given, String localPath, String sparkFilesName, String inside) {
        this.given = given;
        this.localPath = localPath;
        this.sparkFilesName = sparkFilesName;
        this.inside = inside;
    }

    /** The path as the user gave it. */
    public String given() {
        return given;
    }

    /** Whether the path travels with the job (else it is read in place). */
    public boolean shipped() {
        return sparkFilesName != null;
    }

    @Override
    public String toString() {
        return given + (shipped() ? " (shipped as " + sparkFilesName + ")" : "");
    }

    /**
     * Decides on the driver how executors will find {@code path}, registering it with the SparkContext if it is
     * to be shipped. {@code what} names it in messages ("bundle", "weights").
     */
    public static Shipped of(SparkContext sc, String path, Ship ship, String what) {
        if (path == null || path.isBlank()) {
            throw new IllegalArgumentException("no " + what + " given");
        }
        if (!Hadoop.isLocal(path)) {
            if (ship == Ship.NEVER) {
                throw new IllegalArgumentException(what + " " + path + " is not a local path: with ship=never it must be a path every "
                        + "executor can read (a shared file system); use ship=auto to send it with the job");
            }
            String name = nameOf(Hadoop.uri(path).getPath(), path);
            register(sc, name, path + " (" + Hadoop.version(path, sc.hadoopConfiguration()) + ")", () -> sc.addFile(path, true));
            return new Shipped(path, null, name);
        }
        Path local = Hadoop.localPath(path).toAbsolutePath().normalize();
        if (!Files.exists(local)) {
            throw new IllegalArgumentException(what + " " + local + " does not exist");
        }
        boolean inPlace = ship == Ship.NEVER || (ship == Ship.AUTO && sc.isLocal());
        if (inPlace) {
            return new Shipped(path, local.toString(), null);
        }
        // named by content: the same path with other content is another archive
        boolean file = Files.isRegularFile(local);
        dev.graft.util.AtomicFolder.recover(file ? local.getParent() : local);
        String name = "graft-" + local.getFileName() + "-" + contentHash(local) + ".zip";
        // the name is the content: an archive sent under it before (from this path or another) is this content
        register(sc, name, name, () -> sc.addArchive(zip(local, name).toUri().toString()));
        return new Shipped(path, null, name, file ? local.getFileName().toString() : null);
    }

    /** A short SHA-256 of a file's bytes, or of a folder's files (names and bytes, in name order). */
    static String contentHash(Path local) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            List<Path> files;
            if (Files.isRegularFile(local)) {
                files = List.of(local);
            } else {
                try (Stream<Path> w = Files.walk(local)) {
                    files = w.filter(Files::isRegularFile).filter(f -> !local.relativize(f).toString().startsWith(".graft-")).sorted().toList();
                }
            }
            byte[] buf = new byte[1 << 16];
            for (Path f : files) {
                d.update((Files.isRegularFile(local) ? f.getFileName() : local.relativize(f)).toString().getBytes(StandardCharsets.UTF_8));
                d.update((byte) 0);
                try (java.io.InputStream in = Files.newInputStream(f)) {
                    for (int n; (n = in.read(buf)) > 0; ) {
                        d.update(buf, 0, n);
                    }
                }
            }
            return HexFormat.of().formatHex(d.digest(), 0, 6);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + local + " to ship it with the job: " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void register(SparkContext sc, String name, String source, Runnable add) {
        String key = sc.applicationId() + "/" + name;
        synchronized (SENT) {
            String before = SENT.get(key);
            if (before == null) {
                add.run();
                SENT.put(key, source);
            } else if (!before.equals(source)) {
                boolean changed = before.contains(" (") && source.contains(" (")
                        && before.substring(0, before.lastIndexOf(" (")).equals(source.substring(0, source.lastIndexOf(" (")));
                throw new IllegalArgumentException(changed
                        ? "cannot ship " + source + ": it changed since this Spark application sent it as '" + name + "' (" + before
                        + "), and Spark sends a file once per application under its name, so executors would use the old copy. Write the "
                        + "new version under another name, or start a new application"
                        : "cannot ship " + source + " as '" + name + "': this Spark application already "
                        + "ships " + before + " under that name (executors find shipped files by name); rename one of them, or put it "
                        + "on a shared file system and use ship=never");
            }
        }
    }

    /**
     * Executor side: the local path to read. Shipped paths are found among the files Spark fetched for this
     * executor ({@code SparkFiles}), by name.
     */
    public Path local() {
        if (!shipped()) {
            return Path.of(localPath);
        }
        Path p = Path.of(SparkFiles.get(sparkFilesName));
        if (Files.exists(p)) {
            return inside == null ? p : p.resolve(inside);
        }
        Path cwd = Path.of(sparkFilesName).toAbsolutePath();
        if (Files.exists(cwd)) {
            return inside == null ? cwd : cwd.resolve(inside); // YARN and Kubernetes also put shipped files in the working directory
        }
        throw new IllegalStateException("the " + given + " sent with this job is missing on this executor (looked for " + p + " and "
                + cwd + ")");
    }

    private static String nameOf(String uriPath, String given) {
        String p = uriPath == null ? given : uriPath;
        while (p.endsWith("/") && p.length() > 1) {
            p = p.substring(0, p.length() - 1);
        }
        String name = p.substring(p.lastIndexOf('/') + 1);
        if (name.isEmpty()) {
            throw new IllegalArgumentException("cannot ship " + given + ": it has no file name");
        }
        return name;
    }

    /**
     * A folder as a zip (entries relative to it; graft's unfinished staging left out), or one file as a zip holding
     * it under its name, in a temporary folder the JVM removes on exit.
     */
    static Path zip(Path dir, String name) {
        try {
            Path tmp = Files.createTempDirectory("graft-ship");
            Path zip = tmp.resolve(name);
            List<Path> files;
            Path base = Files.isRegularFile(dir) ? dir.getParent() : dir;
            if (Files.isRegularFile(dir)) {
                files = List.of(dir);
            } else {
                try (Stream<Path> w = Files.walk(dir)) {
                    files = w.filter(Files::isRegularFile).filter(f -> !dir.relativize(f).toString().startsWith(".graft-")).sorted().toList();
                }
            }
            try (OutputStream os = Files.newOutputStream(zip); ZipOutputStream z = new ZipOutputStream(os)) {
                for (Path f : files) {
                    z.putNextEntry(new ZipEntry(base.relativize(f).toString().replace('\\', '/')));
                    Files.copy(f, z);
                    z.closeEntry();
                }
            }
            zip.toFile().deleteOnExit();
            tmp.toFile().deleteOnExit();
            return zip;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot pack " + dir + " to ship it with the job: " + e.getMessage(), e);
        }
    }
}
