package dev.graft.spark;

import dev.graft.data.ImageDecoder;
import dev.graft.model.nn.Precision;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsWritable;

import java.util.Locale;

/**
 * What every graft transformer that reads images shares ({@link ImageScorer}, {@link FeatureExtractor}): where the
 * path and the bytes are, the error column, the executor's precision, threads, batch and pixel limit, and how the
 * model reaches the executors. {@code T} is the concrete class, so the setters chain.
 */
public abstract class ImageTransformer<T extends ImageTransformer<T>> extends Transformer implements DefaultParamsWritable {
    private static final long serialVersionUID = 1L;

    private final String uid;
    protected final Param<String> pathCol;
    protected final Param<String> contentCol;
    protected final Param<String> errorCol;
    protected final Param<String> precision;
    protected final Param<String> ship;
    protected final IntParam batchSize;
    protected final IntParam threads;
    protected final LongParam maxPixels;
    protected transient Metrics metrics;

    protected ImageTransformer(String uid, int defaultBatchSize) {
        this.uid = uid;
        pathCol = new Param<>(this, "pathCol", "input column with the image file's path (any Hadoop path)");
        contentCol = new Param<>(this, "contentCol", "input column with the file's bytes, used when present (else the path is read); not kept in the output");
        errorCol = new Param<>(this, "errorCol", "output column: why the image could not be read or run, null when it was");
        precision = new Param<>(this, "precision", "auto (bf16 where the CPU has native bfloat16, else fp32), fp32 or bf16",
                ParamValidators.inArray(new String[] {"auto", "fp32", "bf16"}));
        ship = new Param<>(this, "ship", "auto (the model is sent with the job on a cluster, read in place in local mode), always, or never "
                + "(a path every executor can read)", ParamValidators.inArray(new String[] {"auto", "always", "never"}));
        batchSize = new IntParam(this, "batchSize", "images per forward pass", ParamValidators.gtEq(1));
        threads = new IntParam(this, "threads", "libtorch intra-op threads per executor JVM (0: spark.task.cpus)", ParamValidators.gtEq(0));
        maxPixels = new LongParam(this, "maxPixels", "refuse images whose header declares more pixels (decompression bombs)", ParamValidators.gt(0));
        setDefault(pathCol, "path");
        setDefault(contentCol, "content");
        setDefault(errorCol, "error");
        setDefault(precision, "auto");
        setDefault(ship, "auto");
        setDefault(batchSize, defaultBatchSize);
        setDefault(threads, 0);
        setDefault(maxPixels, ImageDecoder.DEFAULT_MAX_PIXELS);
    }

    @SuppressWarnings("unchecked")
    private T self() {
        return (T) this;
    }

    @Override
    public String uid() {
        return uid;
    }

    public Param<String> pathCol() {
        return pathCol;
    }

    public Param<String> contentCol() {
        return contentCol;
    }

    public Param<String> errorCol() {
        return errorCol;
    }

    public Param<String> precision() {
        return precision;
    }

    public Param<String> ship() {
        return ship;
    }

    public IntParam batchSize() {
        return batchSize;
    }

    public IntParam threads() {
        return threads;
    }

    public LongParam maxPixels() {
        return maxPixels;
    }

    public T setPathCol(String v) {
        set(pathCol, v);
        return self();
    }

    public T setContentCol(String v) {
        set(contentCol, v);
        return self();
    }

    public T setErrorCol(String v) {
        set(errorCol, v);
        return self();
    }

    public T setPrecision(String v) {
        set(precision, Precision.parse(v).label());
        return self();
    }

    public T setShip(String v) {
        set(ship, Shipped.Ship.parse(v).name().toLowerCase(Locale.ROOT));
        return self();
    }

    public T setBatchSize(int v) {
        set(batchSize, v);
        return self();
    }

    public T setThreads(int v) {
        set(threads, v);
        return self();
    }

    public T setMaxPixels(long v) {
        set(maxPixels, v);
        return self();
    }

    /** Accumulators that count images and time (read them after the action); not a parameter, not saved. */
    public T setMetrics(Metrics m) {
        this.metrics = m;
        return self();
    }
}
