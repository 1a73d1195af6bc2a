package dev.graft.train;

import dev.graft.data.BadImages;
import dev.graft.data.FileHashes;
import dev.graft.data.ImageFolder;
import dev.graft.data.Preprocessing;
import dev.graft.model.Backbone;
import dev.graft.model.Network;
import dev.graft.model.Predictor;
import dev.graft.weights.Downloader;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The source model's pooled features of images, remembered by what the image is (the SHA-256 of its bytes) for one
 * source model: architecture, the weights' own bytes, where the body is cut, preprocessing, precision and graft's
 * version make the key. graft check and graft train share it: a check then a run (or a run then a check, or a run
 * with --exclude) computes each image's features once. Kept in {@code ~/.cache/graft/features/<key>.bin} (or under
 * GRAFT_HOME), not in a run folder, because the check and the runs write to different folders, and the same images
 * have the same features whichever folder, CSV or split they are listed in. Beside each feature vector, from the
 * pixels the model saw: their spread (standard deviation on [0, 1], the mean of the three channels'), which finds
 * blank images, and a 32x32 grey thumbnail, which confirms near copies pixel by pixel. {@code GRAFT_FEATURE_CACHE=off} (or -Dgraft.feature_cache=off) keeps features in memory only;
 * weights graft cannot identify by their bytes are never cached on disk.
 */
public final class FeatureCache {
    private static final byte[] MAGIC = "GRAFTFC2".getBytes(StandardCharsets.US_ASCII);
    /** Side of the grey thumbnail kept beside each feature vector (the model's input, block-averaged). */
    public static final int THUMB = 32;
    private static final int EXTRA = 1 + THUMB * THUMB;

    /** Progress of a feature pass: images done out of those that needed computing. */
    public interface Progress {
        void start(String task, int total);

        void step(int done);

        void end();

        Progress NONE = new Progress() {
            @Override
            public void start(String task, int total) {
            }

            @Override
            public void step(int done) {
            }

            @Override
            public void end() {
            }
        };
    }

    private final Path file;
    private final String description;
    private final int dim;
    private final Consumer<String> log;
    /** content hash -> spread, thumbnail (THUMB x THUMB), then dim features */
    private final Map<String, float[]> entries = new HashMap<>();
    private boolean loaded;
    private int hits;
    private int computed;

    FeatureCache(Path file, String description, int dim, Consumer<String> log) {
        this.file = file;
        this.description = description;
        this.dim = dim;
        this.log = log;
    }

    /** The cache for this network's body with its source weights, in {@code dir} (null: memory only). */
    public static FeatureCache of(Path dir, Backbone source, String classifier, Network net, Preprocessing pre, Consumer<String> log) {
        String weights = weightsDigest(source.source());
        String description = String.join("\n", "graft " + Version.VERSION, net.architecture(), "weights sha256 " + weights,
                "classifier " + classifier, pre.describe(), "precision " + net.compute().precision(), "features " + net.featureDim());
        Path file = dir == null || weights == null || !enabled() ? null : dir.resolve(sha256(description).substring(0, 32) + ".bin");
        return new FeatureCache(file, description, net.featureDim(), log);
    }

    /** The default place: features/ in graft's cache folder ({@link Downloader#defaultCache()}). */
    public static FeatureCache of(Backbone source, String classifier, Network net, Preprocessing pre, Consumer<String> log) {
        return of(Downloader.defaultCache().resolve("features"), source, classifier, net, pre, log);
    }

    static boolean enabled() {
        String v = System.getProperty("graft.feature_cache", System.getenv("GRAFT_FEATURE_CACHE"));
        return v == null || !(v.equalsIgnoreCase("off") || v.equals("0") || v.equalsIgnoreCase("false"));
    }

    /** The cache file, or null when features stay in memory. */
    public Path file() {
        return file;
    }

    /** Images whose features came from the cache, and images computed, so far. */
    public int hits() {
        return hits;
    }

    public int computed() {
        return computed;
    }

    /**
     * The folder's features in folder order (rows as {@link FeatureSet#compute}: bad images skipped, counted in
     * {@code bad}): those of images seen before from the cache, the others computed in one pass and saved.
     */
    public FeatureSet compute(Network net, ImageFolder folder, Preprocessing pre, TrainOptions opts, BadImages bad, Progress progress) {
        load();
        List<ImageFolder.Sample> samples = folder.samples();
        int n = samples.size();
        String[] hash = new String[n];
        float[][] got = new float[n][];
        List<Integer> missing = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            hash[i] = FileHashes.sha256(samples.get(i).path());
            got[i] = hash[i] == null ? null : entries.get(hash[i]);
            if (got[i] == null) {
                missing.add(i);
            } else {
                hits++;
            }
        }
        if (!missing.isEmpty()) {
            List<ImageFolder.Sample> sub = missing.stream().map(samples::get).toList();
            ImageFolder part = ImageFolder.of(folder.dir(), folder.classes(), sub, List.of());
            int floats = dev.graft.data.Transforms.size(pre);
            int plane = pre.crop() * pre.crop();
            progress.start(String.format(Locale.ROOT, "features of %d image(s)%s", sub.size(),
                    n > sub.size() ? " (" + (n - sub.size()) + " from the cache)" : ""), sub.size());
            int[] done = {0};
            try (Predictor p = new Predictor(net, pre)) {
                Evaluator.forEachBatch(part, p, opts, bad, (x, b) -> {
                    float[] f = p.features(x, b.size());
                    for (int r = 0; r < b.size(); r++) {
                        float[] e = new float[dim + EXTRA];
                        e[0] = spread(x, r * floats, plane, pre.std());
                        thumbnail(x, r * floats, pre, e, 1);
                        System.arraycopy(f, r * dim, e, EXTRA, dim);
                        int i = missing.get(b.samples()[r]);
                        got[i] = e;
                        if (hash[i] != null) {
                            entries.put(hash[i], e);
                        }
                    }
                    done[0] += b.size();
                    progress.step(done[0]);
                });
            } finally {
                progress.end();
            }
            computed += missing.size();
            save();
        }
        int rows = 0;
        for (float[] g : got) {
            rows += g == null ? 0 : 1;
        }
        float[] x = new float[rows * dim];
        int[] labels = new int[rows];
        int[] idx = new int[rows];
        String[] ids = new String[rows];
        int j = 0;
        for (int i = 0; i < n; i++) {
            if (got[i] != null) {
                System.arraycopy(got[i], EXTRA, x, j * dim, dim);
                labels[j] = samples.get(i).label();
                idx[j] = i;
                ids[j] = folder.dir().relativize(samples.get(i).path()).toString();
                j++;
            }
        }
        return new FeatureSet(x, labels, idx, ids, dim);
    }

    /** The pixel spread of an image whose features this cache holds (NaN otherwise). */
    public float spread(Path image) {
        String h = FileHashes.sha256(image);
        float[] e = h == null ? null : entries.get(h);
        return e == null ? Float.NaN : e[0];
    }

    /** The features of an image this cache holds, or null. */
    public float[] features(Path image) {
        String h = FileHashes.sha256(image);
        float[] e = h == null ? null : entries.get(h);
        return e == null ? null : Arrays.copyOfRange(e, EXTRA, e.length);
    }

    /** The grey thumbnail (THUMB x THUMB, row-major, values on [0, 1]) of an image this cache holds, or null. */
    public float[] thumbnail(Path image) {
        String h = FileHashes.sha256(image);
        float[] e = h == null ? null : entries.get(h);
        return e == null ? null : Arrays.copyOfRange(e, 1, EXTRA);
    }

    /** The model's input of one image in grey (the channels' mean on [0, 1]), averaged over THUMB x THUMB blocks. */
    static void thumbnail(float[] nchw, int offset, Preprocessing pre, float[] out, int at) {
        int size = pre.crop();
        int plane = size * size;
        for (int by = 0; by < THUMB; by++) {
            int y0 = by * size / THUMB;
            int y1 = (by + 1) * size / THUMB;
            for (int bx = 0; bx < THUMB; bx++) {
                int x0 = bx * size / THUMB;
                int x1 = (bx + 1) * size / THUMB;
                double sum = 0;
                for (int c = 0; c < 3; c++) {
                    double cs = 0;
                    for (int y = y0; y < y1; y++) {
                        int row = offset + c * plane + y * size;
                        for (int x = x0; x < x1; x++) {
                            cs += nchw[row + x];
                        }
                    }
                    sum += cs * pre.std()[c] + (double) (y1 - y0) * (x1 - x0) * pre.mean()[c];
                }
                out[at + by * THUMB + bx] = (float) (sum / (3.0 * (y1 - y0) * (x1 - x0)));
            }
        }
    }

    /** Standard deviation of one image's pixel values on [0, 1], the mean over its three channels' variances. */
    static float spread(float[] nchw, int offset, int plane, float[] std) {
        double var = 0;
        for (int c = 0; c < 3; c++) {
            double s = 0;
            double s2 = 0;
            int o = offset + c * plane;
            for (int k = 0; k < plane; k++) {
                double v = nchw[o + k];
                s += v;
                s2 += v * v;
            }
            double mean = s / plane;
            var += Math.max(0, s2 / plane - mean * mean) * std[c] * std[c];
        }
        return (float) Math.sqrt(var / 3);
    }

    private void load() {
        if (loaded) {
            return;
        }
        loaded = true;
        if (file != null && Files.isRegularFile(file)) {
            try {
                read(file, entries);
            } catch (IOException e) {
                log.accept("warning: the feature cache " + file + " cannot be read (" + e.getMessage() + "); computing features again");
                entries.clear();
            }
        }
    }

    private void read(Path f, Map<String, float[]> into) throws IOException {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(f), 1 << 16))) {
            byte[] magic = new byte[MAGIC.length];
            in.readFully(magic);
            int d = in.readInt();
            int count = in.readInt();
            if (!Arrays.equals(magic, MAGIC) || d != dim || count < 0) {
                throw new IOException("not a graft feature cache for " + dim + " features");
            }
            byte[] h = new byte[32];
            for (int i = 0; i < count; i++) {
                in.readFully(h);
                float[] e = new float[dim + EXTRA];
                for (int k = 0; k < e.length; k++) {
                    e[k] = in.readFloat();
                }
                into.putIfAbsent(HexFormat.of().formatHex(h), e);
            }
        } catch (EOFException e) {
            throw new IOException("truncated");
        }
    }

    /** Merges with what another process may have added meanwhile, then replaces the file atomically. */
    private void save() {
        if (file == null) {
            return;
        }
        try {
            Files.createDirectories(file.getParent());
            if (Files.isRegularFile(file)) {
                Map<String, float[]> disk = new HashMap<>();
                try {
                    read(file, disk);
                    disk.forEach(entries::putIfAbsent);
                } catch (IOException e) {
                    // replaced below
                }
            }
            Path tmp = Files.createTempFile(file.getParent(), ".features", ".tmp");
            try {
                try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16))) {
                    out.write(MAGIC);
                    out.writeInt(dim);
                    out.writeInt(entries.size());
                    for (Map.Entry<String, float[]> e : entries.entrySet()) {
                        out.write(HexFormat.of().parseHex(e.getKey()));
                        for (float v : e.getValue()) {
                            out.writeFloat(v);
                        }
                    }
                }
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
            Path about = file.resolveSibling(file.getFileName().toString().replace(".bin", ".txt"));
            if (!Files.exists(about)) {
                Files.writeString(about, description + "\n", StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            log.accept("warning: the feature cache " + file + " cannot be written (" + e.getMessage() + "); features stay in memory");
        }
    }

    /** SHA-256 of the weights' bytes: the file, or every file of a folder (TF.js shards, Keras), by name; null when unknown. */
    static String weightsDigest(String source) {
        Path p;
        try {
            p = Path.of(source);
        } catch (java.nio.file.InvalidPathException | NullPointerException e) {
            return null;
        }
        if (Files.isRegularFile(p)) {
            return FileHashes.sha256(p);
        }
        if (!Files.isDirectory(p)) {
            return null;
        }
        StringBuilder all = new StringBuilder();
        try (Stream<Path> s = Files.list(p)) {
            for (Path f : s.filter(Files::isRegularFile).sorted().toList()) {
                String h = FileHashes.sha256(f);
                if (h == null) {
                    return null;
                }
                all.append(f.getFileName()).append(' ').append(h).append('\n');
            }
        } catch (IOException e) {
            return null;
        }
        return all.length() == 0 ? null : sha256(all.toString());
    }

    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
