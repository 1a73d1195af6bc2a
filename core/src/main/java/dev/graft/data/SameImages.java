package dev.graft.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Images that are the same file under two names (a symlink, a hard link, the same path listed twice) or copies with
 * the same bytes. Found by real path and content hash ({@link FileHashes}), never by name alone. Across the training
 * and test sets such a pair is leakage: the test set counts as unseen an image the model trained on.
 */
public final class SameImages {
    private SameImages() {
    }

    /**
     * The groups (two or more entries, ascending) of {@code files} that are the same image: the same real path or the
     * same bytes, transitively. Unreadable files group by path only. Linear in the number of files, however many
     * copies a group has.
     */
    public static List<List<Integer>> groups(List<Path> files) {
        int n = files.size();
        int[] parent = new int[n];
        for (int i = 0; i < n; i++) {
            parent[i] = i;
        }
        Map<Path, Integer> byPath = new HashMap<>();
        Map<String, Integer> byHash = new HashMap<>();
        for (int i = 0; i < n; i++) {
            Integer p = byPath.putIfAbsent(FileHashes.realPath(files.get(i)), i);
            if (p != null) {
                union(parent, p, i);
            }
            String h = FileHashes.sha256(files.get(i));
            Integer q = h == null ? null : byHash.putIfAbsent(h, i);
            if (q != null) {
                union(parent, q, i);
            }
        }
        Map<Integer, List<Integer>> by = new java.util.TreeMap<>();
        for (int i = 0; i < n; i++) {
            by.computeIfAbsent(find(parent, i), k -> new ArrayList<>()).add(i);
        }
        List<List<Integer>> out = new ArrayList<>();
        for (List<Integer> g : by.values()) {
            if (g.size() > 1) {
                out.add(List.copyOf(g));
            }
        }
        return out;
    }

    /** Whether two paths are the same file (links resolved). */
    public static boolean sameFile(Path a, Path b) {
        return FileHashes.realPath(a).equals(FileHashes.realPath(b));
    }

    private static int find(int[] parent, int i) {
        while (parent[i] != i) {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        return i;
    }

    private static void union(int[] parent, int a, int b) {
        int ra = find(parent, a);
        int rb = find(parent, b);
        if (ra != rb) {
            parent[Math.max(ra, rb)] = Math.min(ra, rb);
        }
    }

    /** A test image that is also a training (or validation) image. */
    public record Leak(ImageFolder.Sample test, ImageFolder.Sample train, boolean sameFile) {
    }

    /** The test images that are the same file as, or a byte-identical copy of, an image the model trains or validates on. */
    public static List<Leak> acrossSplits(DataSplits data) {
        List<ImageFolder.Sample> seen = new ArrayList<>(data.train().samples());
        if (data.validation() != null) {
            seen.addAll(data.validation().samples());
        }
        List<ImageFolder.Sample> test = data.test() == null ? List.of() : data.test().samples();
        if (test.isEmpty()) {
            return List.of();
        }
        List<Path> files = new ArrayList<>(seen.size() + test.size());
        seen.forEach(s -> files.add(s.path()));
        test.forEach(s -> files.add(s.path()));
        List<Leak> out = new ArrayList<>();
        for (List<Integer> g : groups(files)) {
            int anchor = g.get(0);
            if (anchor >= seen.size()) {
                continue; // test images only
            }
            for (int i : g) {
                if (i >= seen.size()) {
                    ImageFolder.Sample t = test.get(i - seen.size());
                    out.add(new Leak(t, seen.get(anchor), sameFile(t.path(), seen.get(anchor).path())));
                }
            }
        }
        out.sort((x, y) -> x.test().path().compareTo(y.test().path()));
        return out;
    }

    /** The warning printed at the start of a run, naming the first pairs; null when there is no leak. */
    public static String warning(List<Leak> leaks, Path root) {
        if (leaks.isEmpty()) {
            return null;
        }
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "warning: %d test image(s) are also training images (the same "
                + "file through a link, or a copy with the same bytes), so test accuracy counts them as unseen: ", leaks.size()));
        int shown = Math.min(5, leaks.size());
        for (int i = 0; i < shown; i++) {
            Leak l = leaks.get(i);
            sb.append(i > 0 ? "; " : "").append(name(l.test().path(), root)).append(" = ").append(name(l.train().path(), root))
                    .append(" (").append(l.sameFile() ? "same file" : "same bytes").append(")");
        }
        if (leaks.size() > shown) {
            sb.append("; and ").append(leaks.size() - shown).append(" more");
        }
        return sb.append(". graft check lists every duplicate; train --exclude FILE leaves files out").toString();
    }

    static String name(Path p, Path root) {
        Path a = p.toAbsolutePath().normalize();
        Path r = root == null ? null : root.toAbsolutePath().normalize();
        return r != null && a.startsWith(r) ? r.relativize(a).toString() : p.toString();
    }
}
