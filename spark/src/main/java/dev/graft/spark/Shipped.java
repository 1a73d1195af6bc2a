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
 * <li>a local file, on a cluster: {@code SparkContext.addFile}, fetched by each executor;</li>
 * <li>a local folder, on a cluster: zipped once and sent with {@code SparkContext.addArchive}, unpacked by each executor;</li>
 * <li>a Hadoop URI (hdfs://, s3a://, ...): {@code SparkContext.addFile(uri, recursive)}, folders included.</li>
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

    private Shipped(String given, String localPath, String sparkFilesName) {
        this.given = given;
        this.localPath = localPath;
        this.sparkFilesName = sparkFilesName;
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
            register(sc, name, path, () -> sc.addFile(path, true));
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
        if (Files.isRegularFile(local)) {
            String name = local.getFileName().toString();
            register(sc, name, local.toString(), () -> sc.addFile(local.toUri().toString()));
            return new Shipped(path, null, name);
        }
        String name = "graft-" + local.getFileName() + "-" + hash(local.toString()) + ".zip";
        register(sc, name, local.toString(), () -> sc.addArchive(zip(local, name).toUri().toString()));
        return new Shipped(path, null, name);
    }

    private static void register(SparkContext sc, String name, String source, Runnable add) {
        String key = sc.applicationId() + "/" + name;
        synchronized (SENT) {
            String before = SENT.get(key);
            if (before == null) {
                add.run();
                SENT.put(key, source);
            } else if (!before.equals(source)) {
                throw new IllegalArgumentException("cannot ship " + source + " as '" + name + "': this Spark application already "
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
            return p;
        }
        Path cwd = Path.of(sparkFilesName).toAbsolutePath();
        if (Files.exists(cwd)) {
            return cwd; // YARN and Kubernetes also put shipped files in the container's working directory
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

    static String hash(String s) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A folder as a zip (entries relative to it), in a temporary folder the JVM removes on exit. */
    static Path zip(Path dir, String name) {
        try {
            Path tmp = Files.createTempDirectory("graft-ship");
            Path zip = tmp.resolve(name);
            List<Path> files;
            try (Stream<Path> w = Files.walk(dir)) {
                files = w.filter(Files::isRegularFile).sorted().toList();
            }
            try (OutputStream os = Files.newOutputStream(zip); ZipOutputStream z = new ZipOutputStream(os)) {
                for (Path f : files) {
                    z.putNextEntry(new ZipEntry(dir.relativize(f).toString().replace('\\', '/')));
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
