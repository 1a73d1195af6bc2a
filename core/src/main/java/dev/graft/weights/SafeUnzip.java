package dev.graft.weights;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Enumeration;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/** Extracts a zip archive, refusing entries that would land outside the target folder ("zip slip"). */
public final class SafeUnzip {
    private static final long MAX_TOTAL = 20L << 30;
    private static final int MAX_ENTRIES = 1_000_000;

    private SafeUnzip() {
    }

    public static void extract(Path zipFile, Path target) throws IOException {
        Path root = target.toAbsolutePath().normalize();
        Files.createDirectories(root);
        long total = 0;
        int count = 0;
        try (ZipFile zip = new ZipFile(zipFile.toFile())) {
            // check every name before writing anything
            Enumeration<? extends ZipEntry> all = zip.entries();
            while (all.hasMoreElements()) {
                resolve(root, all.nextElement().getName(), zipFile);
                if (++count > MAX_ENTRIES) {
                    throw new IOException(zipFile + ": more than " + MAX_ENTRIES + " entries");
                }
            }
            Enumeration<? extends ZipEntry> entries = zip.entries();
            while (entries.hasMoreElements()) {
                ZipEntry e = entries.nextElement();
                Path out = resolve(root, e.getName(), zipFile);
                if (e.isDirectory()) {
                    Files.createDirectories(out);
                    continue;
                }
                Files.createDirectories(out.getParent());
                try (InputStream in = zip.getInputStream(e)) {
                    total += Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
                }
                if (total > MAX_TOTAL) {
                    throw new IOException(zipFile + ": expands to more than " + MAX_TOTAL + " bytes");
                }
            }
        }
    }

    static Path resolve(Path root, String name, Path zipFile) throws IOException {
        if (name.startsWith("/") || name.startsWith("\\") || name.matches("^[A-Za-z]:.*") || name.contains("\0")) {
            throw new IOException(zipFile + ": refusing entry '" + name + "' with an absolute path");
        }
        Path out = root.resolve(name).normalize();
        if (!out.startsWith(root) || out.equals(root) && !name.isEmpty() && !name.equals("./")) {
            throw new IOException(zipFile + ": refusing entry '" + name + "', which would be written outside " + root);
        }
        return out;
    }
}
