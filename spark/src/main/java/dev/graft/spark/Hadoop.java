package dev.graft.spark;

import dev.graft.data.BadImageException;
import dev.graft.data.ImageDecoder;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;

/** The few file operations the jobs need on any file system the cluster's Hadoop reads (local, HDFS, S3, ...). */
final class Hadoop {
    /** Largest image file read (as graft's decoder: 512 MiB). */
    static final long MAX_IMAGE_BYTES = 512L << 20;

    private Hadoop() {
    }

    static URI uri(String path) {
        return new Path(path).toUri();
    }

    /**
     * A local path string ("/a/b", "file:/a/b", "file:///a/b") as a java.nio path, taken literally (no URI decoding:
     * Spark and Hadoop write local paths as "file:" followed by the path).
     */
    static java.nio.file.Path localPath(String path) {
        return java.nio.file.Path.of(path.startsWith("file:") ? path.substring("file:".length()) : path);
    }

    /** True for paths without a scheme or with file:. */
    static boolean isLocal(String path) {
        return path.startsWith("file:") || !path.matches("^[A-Za-z][A-Za-z0-9+.-]*:.*");
    }

    /** A path as Spark's file sources write it in their path column ("file:/abs/dir" for local paths). */
    static String qualified(String path, Configuration conf) {
        try {
            String p = path;
            if (isLocal(path)) {
                p = localPath(path).toAbsolutePath().normalize().toString();
            }
            Path hp = new Path(p);
            return hp.getFileSystem(conf).makeQualified(hp).toString();
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": " + e.getMessage(), e);
        }
    }

    static boolean isDirectory(String path, Configuration conf) {
        try {
            Path p = new Path(path);
            return p.getFileSystem(conf).getFileStatus(p).isDirectory();
        } catch (FileNotFoundException e) {
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": " + e.getMessage(), e);
        }
    }

    static boolean exists(String path, Configuration conf) {
        try {
            Path p = new Path(path);
            return p.getFileSystem(conf).exists(p);
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": " + e.getMessage(), e);
        }
    }

    /**
     * One image file's bytes. Failures are the file's problem, said in words, as {@link Unreadable}: the caller
     * turns them into an error row.
     */
    static byte[] read(String path, Configuration conf) throws Unreadable {
        if (isLocal(path)) {
            try {
                return ImageDecoder.readFile(localPath(path)); // graft's own checks and messages
            } catch (BadImageException e) {
                throw new Unreadable(e.reason());
            } catch (java.nio.file.InvalidPathException e) {
                throw new Unreadable("is not a valid path: " + e.getMessage());
            }
        }
        Path p;
        try {
            p = new Path(path);
        } catch (IllegalArgumentException e) {
            throw new Unreadable("is not a valid path: " + e.getMessage());
        }
        try {
            FileSystem fs = p.getFileSystem(conf);
            FileStatus st = fs.getFileStatus(p);
            if (st.isDirectory()) {
                throw new Unreadable("is a directory, not an image file");
            }
            long len = st.getLen();
            if (len == 0) {
                throw new Unreadable("is empty (0 bytes)");
            }
            if (len > MAX_IMAGE_BYTES) {
                throw new Unreadable("is " + len + " bytes, larger than the " + MAX_IMAGE_BYTES + "-byte limit for one image");
            }
            byte[] b = new byte[(int) len];
            try (FSDataInputStream in = fs.open(p)) {
                in.readFully(0, b);
            }
            return b;
        } catch (FileNotFoundException e) {
            boolean denied = String.valueOf(e.getMessage()).contains("Permission denied");
            throw new Unreadable(denied ? "cannot be read: permission denied" : "does not exist (was it removed?)");
        } catch (AccessDeniedException | org.apache.hadoop.security.AccessControlException e) {
            throw new Unreadable("cannot be read: permission denied");
        } catch (IOException e) {
            throw new Unreadable("cannot be read: " + e.getMessage());
        }
    }

    /** A file that could not be read, and why (the reason reads after the file name). */
    static final class Unreadable extends Exception {
        Unreadable(String reason) {
            super(reason);
        }
    }

    /** Copies a file or folder from any file system to a local folder (returns the local copy). */
    static java.nio.file.Path copyToLocal(String path, java.nio.file.Path dir, Configuration conf) {
        try {
            Path src = new Path(path);
            java.nio.file.Path dst = dir.resolve(src.getName());
            src.getFileSystem(conf).copyToLocalFile(false, src, new Path(dst.toUri()), true);
            return dst;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy " + path + " to " + dir + ": " + e.getMessage(), e);
        }
    }

    /** What identifies a Hadoop file's or folder's version: its files' count, total size and latest modification time. */
    static String version(String path, Configuration conf) {
        try {
            Path p = new Path(path);
            FileSystem fs = p.getFileSystem(conf);
            long files = 0;
            long bytes = 0;
            long latest = 0;
            org.apache.hadoop.fs.RemoteIterator<org.apache.hadoop.fs.LocatedFileStatus> it = fs.listFiles(p, true);
            while (it.hasNext()) {
                org.apache.hadoop.fs.LocatedFileStatus f = it.next();
                files++;
                bytes += f.getLen();
                latest = Math.max(latest, f.getModificationTime());
            }
            return files + " file(s), " + bytes + " bytes, modified " + java.time.Instant.ofEpochMilli(latest);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    /** Copies a local folder's content to a folder on any file system. */
    static void copyFromLocal(java.nio.file.Path local, String target, boolean overwrite, Configuration conf) {
        try {
            Path dst = new Path(target);
            FileSystem fs = dst.getFileSystem(conf);
            boolean exists = fs.exists(dst);
            if (exists && !overwrite) {
                throw new IllegalArgumentException(target + " already exists (overwrite to replace it)");
            }
            // the copy is made beside the target and renamed into place when complete; the old one is removed last
            String tag = Long.toHexString(System.nanoTime());
            Path fresh = new Path(dst.getParent(), "." + dst.getName() + ".graft-new-" + tag);
            fs.copyFromLocalFile(false, true, new Path(local.toUri()), fresh);
            Path old = new Path(dst.getParent(), "." + dst.getName() + ".graft-old-" + tag);
            if (exists && !fs.rename(dst, old)) {
                fs.delete(fresh, true);
                throw new IOException("cannot move the old " + target + " aside to replace it");
            }
            if (!fs.rename(fresh, dst)) {
                if (exists) {
                    fs.rename(old, dst);
                }
                fs.delete(fresh, true);
                throw new IOException("cannot move the new copy into place as " + target);
            }
            if (exists) {
                fs.delete(old, true);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy " + local + " to " + target + ": " + e.getMessage(), e);
        }
    }

    static void writeString(String file, String text, Configuration conf) {
        try {
            Path p = new Path(file);
            try (OutputStream os = p.getFileSystem(conf).create(p, true)) {
                os.write(text.getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** A small text file's content, or null if it does not exist. */
    static String readString(String file, Configuration conf) {
        try {
            Path p = new Path(file);
            FileSystem fs = p.getFileSystem(conf);
            if (!fs.exists(p)) {
                return null;
            }
            try (FSDataInputStream in = fs.open(p)) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    static java.nio.file.Path tempDir(String prefix) {
        try {
            java.nio.file.Path d = Files.createTempDirectory(prefix);
            d.toFile().deleteOnExit();
            return d;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
