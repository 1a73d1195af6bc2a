package dev.graft.spark;

import ai.djl.pytorch.jni.JniUtils;
import dev.graft.app.Classifier;
import dev.graft.model.nn.Precision;
import dev.graft.model.nn.Torch;
import org.apache.spark.TaskContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * One model per executor JVM: the first task that needs a bundle (or a backbone) loads it, every later task of
 * that JVM, concurrent ones included, shares it (graft's {@link Classifier} is thread-safe). Models stay loaded
 * for the JVM's life, so a job's many tasks pay for loading once per executor.
 */
public final class ExecutorModels {
    private static final Logger LOG = LoggerFactory.getLogger(ExecutorModels.class);
    private static final Map<Object, Object> MODELS = new ConcurrentHashMap<>();
    private static int threads = -1;

    private ExecutorModels() {
    }

    record ClassifierKey(String bundle, String precision, long maxPixels) {
    }

    /** The executor's classifier for a bundle folder; {@code loadNanos} gets the loading time when this call loads it. */
    static Classifier classifier(Path bundle, String precision, long maxPixels, int threads, long[] loadNanos) {
        ClassifierKey key = new ClassifierKey(bundle.toAbsolutePath().normalize().toString(), precision, maxPixels);
        return get(key, threads, loadNanos, () -> Classifier.load(bundle, maxPixels, Precision.parse(precision)));
    }

    /** The executor's feature model for a backbone. */
    static FeatureModel features(FeatureModel.Spec spec, int threads, long[] loadNanos) {
        return get(spec, threads, loadNanos, () -> FeatureModel.load(spec));
    }

    @SuppressWarnings("unchecked")
    private static <T> T get(Object key, int requestedThreads, long[] loadNanos, Supplier<T> load) {
        setThreads(requestedThreads);
        Object m = MODELS.get(key);
        if (m != null) {
            return (T) m;
        }
        synchronized (ExecutorModels.class) {
            m = MODELS.get(key);
            if (m == null) {
                long t0 = System.nanoTime();
                m = load.get();
                long dt = System.nanoTime() - t0;
                loadNanos[0] += dt;
                LOG.info("graft: loaded {} in {} ms", key, dt / 1_000_000);
                MODELS.put(key, m);
            }
            return (T) m;
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

    /** Closes and forgets every model this JVM loaded (tests, benchmarks of loading). */
    public static synchronized void clear() {
        List<Object> all = new ArrayList<>(MODELS.values());
        MODELS.clear();
        for (Object o : all) {
            if (o instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception e) {
                    LOG.warn("graft: closing {}: {}", o, e.toString());
                }
            }
        }
    }

    /** How many models this JVM holds. */
    public static int loaded() {
        return MODELS.size();
    }
}
