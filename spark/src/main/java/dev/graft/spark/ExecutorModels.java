package dev.graft.spark;

import ai.djl.pytorch.jni.JniUtils;
import dev.graft.api.Classifier;
import dev.graft.model.nn.Precision;
import dev.graft.model.nn.Torch;
import dev.graft.util.AtomicFolder;
import org.apache.spark.TaskContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * The models of one executor JVM. The first task that needs a bundle (or a backbone) loads it; every later task of
 * that JVM, concurrent ones included, shares it (graft's {@link Classifier} is thread-safe), so a job's many tasks pay
 * for loading once per executor.
 * <p>
 * Models are keyed by <b>content</b> (a SHA-256 of the bundle's model.json, weights and topology, or of the weights'
 * files), not by path: a bundle replaced at the same path (fit-head with overwrite, then score in the same
 * application) is loaded anew, and tasks never score with the old head. A task holds its model through a
 * {@link Lease}; a model is closed (its native memory returned) when no task holds it and it has been replaced at
 * its path, or has not been used for {@link #IDLE_MILLIS}, or more than {@link #MAX_IDLE} unused models are kept.
 */
public final class ExecutorModels {
    private static final Logger LOG = LoggerFactory.getLogger(ExecutorModels.class);
    /** An unused model is closed after this long (system property graft.spark.model_idle_seconds; default 10 min). */
    static final long IDLE_MILLIS = Long.getLong("graft.spark.model_idle_seconds", 600) * 1000;
    /** At most this many unused models are kept loaded. */
    static final int MAX_IDLE = 2;

    private static final Map<Object, Entry> MODELS = new LinkedHashMap<>();
    /** For each place a model was loaded from (path and options), the key it holds now. */
    private static final Map<Object, Object> CURRENT = new LinkedHashMap<>();
    /** Content hashes of files, reused while a file's size, time and identity stay the same. */
    private static final Map<Path, Stamped> HASHES = new LinkedHashMap<>();
    private static int threads = -1;

    private ExecutorModels() {
    }

    private static final class Entry {
        final Object key;
        final Object model;
        int leases;
        long lastUsed = System.currentTimeMillis();
        boolean replaced;

        Entry(Object key, Object model) {
            this.key = key;
            this.model = model;
        }
    }

    private record Stamped(long size, long modified, Object fileKey, String sha256) {
    }

    /** A task's hold on a model: close it when the task is done with the model (idempotent). */
    public static final class Lease<T> implements AutoCloseable {
        private final Entry entry;
        private boolean closed;

        private Lease(Entry entry) {
            this.entry = entry;
        }

        @SuppressWarnings("unchecked")
        public T get() {
            if (closed) {
                throw new IllegalStateException("this model lease was returned");
            }
            return (T) entry.model;
        }

        @Override
        public void close() {
            synchronized (ExecutorModels.class) {
                if (closed) {
                    return;
                }
                closed = true;
                entry.leases--;
                entry.lastUsed = System.currentTimeMillis();
                evict();
            }
        }
    }

    record ClassifierKey(String bundleSha256, String precision, String engine, long maxPixels) {
    }

    record Place(String path, Object options) {
    }

    /** The executor's classifier for a bundle folder; {@code loadNanos} gets the loading time when this call loads it. */
    static Lease<Classifier> classifier(Path bundle, String precision, String engine, long maxPixels, int threads, long[] loadNanos) {
        AtomicFolder.recover(bundle); // a replacement cut short: finished before its content is read
        ClassifierKey key = new ClassifierKey(sha256(bundleFiles(bundle)), precision, engine, maxPixels);
        Place place = new Place(bundle.toAbsolutePath().normalize().toString(), List.of(precision, engine, maxPixels));
        return get(key, place, threads, loadNanos, () -> Classifier.load(bundle, maxPixels, Precision.parse(precision),
                dev.graft.model.InferenceEngine.Kind.parse(engine)));
    }

    /** The executor's feature model for a backbone. */
    static Lease<FeatureModel> features(FeatureModel.Spec spec, int threads, long[] loadNanos) {
        Path w = Path.of(spec.weights());
        FeatureModel.Spec key = new FeatureModel.Spec(spec.model(), sha256(weightFiles(w)), spec.normalization(), spec.imageSize(),
                spec.shortSide(), spec.precision(), spec.maxPixels());
        Place place = new Place(w.toAbsolutePath().normalize().toString(), List.of(spec.model(), spec.normalization(), spec.imageSize(),
                spec.shortSide(), spec.precision(), spec.maxPixels()));
        return get(key, place, threads, loadNanos, () -> FeatureModel.load(spec));
    }

    private static <T> Lease<T> get(Object key, Place place, int requestedThreads, long[] loadNanos, Supplier<T> load) {
        setThreads(requestedThreads);
        synchronized (ExecutorModels.class) {
            Entry e = MODELS.get(key);
            if (e == null) {
                long t0 = System.nanoTime();
                Object m = load.get();
                long dt = System.nanoTime() - t0;
                loadNanos[0] += dt;
                LOG.info("graft: loaded {} from {} in {} ms", key, place.path(), dt / 1_000_000);
                e = new Entry(key, m);
                MODELS.put(key, e);
            }
            Object before = CURRENT.put(place, key);
            if (before != null && !before.equals(key)) {
                Entry old = MODELS.get(before);
                if (old != null) {
                    old.replaced = true; // closed as soon as no task holds it
                    LOG.info("graft: {} changed since it was loaded; the old model goes when its tasks are done", place.path());
                }
            }
            e.leases++;
            e.lastUsed = System.currentTimeMillis();
            evict();
            return new Lease<>(e);
        }
    }

    /** Closes unused models that were replaced, idle too long, or beyond the few kept; under the class lock. */
    private static void evict() {
        long now = System.currentTimeMillis();
        List<Entry> unused = new ArrayList<>();
        for (Entry e : MODELS.values()) {
            if (e.leases == 0) {
                unused.add(e);
            }
        }
        unused.sort((a, b) -> Long.compare(b.lastUsed, a.lastUsed)); // most recent first
        for (int i = 0; i < unused.size(); i++) {
            Entry e = unused.get(i);
            if (e.replaced || now - e.lastUsed > IDLE_MILLIS || i >= MAX_IDLE) {
                MODELS.remove(e.key);
                CURRENT.values().removeIf(k -> k.equals(e.key));
                close(e.model);
                LOG.info("graft: closed the unused model {}{}", e.key, e.replaced ? " (replaced at its path)" : "");
            }
        }
    }

    private static void close(Object o) {
        if (o instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.warn("graft: closing {}: {}", o, e.toString());
            }
        }
    }

    /** The files a bundle's content is: model.json, the weights and (Keras) the topology, as a reader sees them. */
    static List<Path> bundleFiles(Path bundle) {
        List<Path> out = new ArrayList<>();
        for (String f : List.of("model.json", "weights.safetensors", "topology.json")) {
            Path p = AtomicFolder.current(bundle, f);
            if (Files.isRegularFile(p)) {
                out.add(p);
            }
        }
        if (out.size() < 2) {
            throw new IllegalArgumentException(bundle + " is not a graft model bundle (needs model.json and weights.safetensors)");
        }
        return out;
    }

    /** The files weights are: a file, a folder's files (a TF.js model and its shards), or a TF.js model.json's folder. */
    static List<Path> weightFiles(Path w) {
        Path dir = Files.isDirectory(w) ? w : w.getFileName() != null && w.getFileName().toString().endsWith(".json") ? w.getParent() : null;
        if (dir == null) {
            return List.of(w);
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the weights in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** One SHA-256 over the files' names and contents (each file's own hash reused while it is unchanged). */
    static String sha256(List<Path> files) {
        MessageDigest all = digest();
        for (Path f : files) {
            all.update(f.getFileName().toString().getBytes(StandardCharsets.UTF_8));
            all.update((byte) 0);
            all.update(fileSha256(f).getBytes(StandardCharsets.US_ASCII));
        }
        return HexFormat.of().formatHex(all.digest());
    }

    static synchronized String fileSha256(Path f) {
        try {
            Path real = f.toRealPath();
            BasicFileAttributes a = Files.readAttributes(real, BasicFileAttributes.class);
            Stamped s = HASHES.get(real);
            if (s != null && s.size() == a.size() && s.modified() == a.lastModifiedTime().toMillis() && Objects.equals(s.fileKey(), a.fileKey())) {
                return s.sha256();
            }
            MessageDigest d = digest();
            try (InputStream in = Files.newInputStream(real)) {
                byte[] buf = new byte[1 << 16];
                for (int n; (n = in.read(buf)) > 0; ) {
                    d.update(buf, 0, n);
                }
            }
            String h = HexFormat.of().formatHex(d.digest());
            HASHES.put(real, new Stamped(a.size(), a.lastModifiedTime().toMillis(), a.fileKey(), h));
            return h;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f + ": " + e.getMessage(), e);
        }
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * libtorch's intra-op threads for this JVM: the given count, or (0) the cores Spark gives each task
     * ({@code spark.task.cpus}, default 1), so that concurrent tasks do not oversubscribe the executor's cores. On the
     * driver (no task) 0 leaves the engine as it is.
     */
    static synchronized void setThreads(int requested) {
        if (requested <= 0 && TaskContext.get() == null) {
            return;
        }
        int n = requested > 0 ? requested : TaskContext.get().cpus();
        if (n == threads) {
            return;
        }
        Torch.threads(n); // read when the engine starts
        Torch.engine();
        if (JniUtils.getNumThreads() != n) {
            JniUtils.setNumThreads(n); // the engine was already running (local mode: the driver started it)
        }
        threads = n;
        LOG.info("graft: libtorch uses {} intra-op thread(s) per executor JVM", n);
    }

    /** Closes and forgets every model this JVM loaded that no task holds (tests, benchmarks of loading). */
    public static synchronized void clear() {
        List<Entry> all = new ArrayList<>(MODELS.values());
        for (Entry e : all) {
            if (e.leases == 0) {
                MODELS.remove(e.key);
                CURRENT.values().removeIf(k -> k.equals(e.key));
                close(e.model);
            }
        }
    }

    /** How many models this JVM holds. */
    public static synchronized int loaded() {
        return MODELS.size();
    }
}
