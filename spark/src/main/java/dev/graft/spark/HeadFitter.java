package dev.graft.spark;

import dev.graft.run.OutputFolder;
import dev.graft.train.Bundle;
import org.apache.spark.SparkContext;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Fits a new head on backbone features ({@link FeatureExtractor}'s output: path, label, features) and writes a
 * normal graft bundle: the body from the source weights named in the features' metadata, the head fitted here.
 * The bundle works with {@code graft predict}, {@code serve}, {@code Classifier} and {@link ImageScorer} like any
 * other.
 * <ul>
 * <li><b>driver</b> (when the features fit in the driver's memory, see {@link #maxDriverRows()}): graft's own probe,
 * exactly as {@code graft train --mode probe}: multinomial logistic regression, mean cross-entropy + lambda/2 |W|^2,
 * lambda chosen by stratified 5-fold cross-validation among {1, 3, 10, 30, 100, 300} / n (scikit-learn's C = 1 and
 * stronger), then refitted on all rows.</li>
 * <li><b>mllib</b> (when they do not): Spark MLlib's {@code LogisticRegression}, multinomial, L2 only, without
 * standardization, so it minimises the very same objective. Its lambda: the one given, or graft's cross-validation
 * run on a random sample that does fit on the driver; the chosen strength is carried over as C (lambda x n, as
 * scikit-learn's C is per sample), i.e. lambda = (lambda_sample x n_sample) / n for the whole set. A sample
 * favours slightly stronger regularisation than the whole set would; with many rows per class the choice matters
 * little.</li>
 * </ul>
 */
public final class HeadFitter extends Estimator<HeadModel> implements DefaultParamsWritable {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(HeadFitter.class);

    private final String uid;
    private final Param<String> bundle;
    private final Param<String> featuresCol;
    private final Param<String> labelCol;
    private final Param<String> pathCol;
    private final Param<String> errorCol;
    private final Param<String> method;
    private final Param<String> weights;
    private final DoubleParam lambda;
    private final LongParam seed;
    private final LongParam maxDriverRows;
    private final IntParam maxIter;
    private final BooleanParam overwrite;
    private transient Dataset<?> testFeatures;
    private transient String dataName;
    private transient Consumer<String> log = LOG::info;

    public HeadFitter() {
        this(Identifiable.randomUID("graftHeadFitter"));
    }

    public HeadFitter(String uid) {
        this.uid = uid;
        bundle = new Param<>(this, "bundle", "the bundle folder to write (local, or a Hadoop URI: written locally, then copied)");
        featuresCol = new Param<>(this, "featuresCol", "input column: pooled features (array<float>) with graft's metadata");
        labelCol = new Param<>(this, "labelCol", "input column: the class name");
        pathCol = new Param<>(this, "pathCol", "input column: the image's path (orders the rows for cross-validation folds); optional");
        errorCol = new Param<>(this, "errorCol", "input column: rows with an error here are left out; optional");
        method = new Param<>(this, "method", "auto (driver when the features fit there, else mllib), driver or mllib",
                ParamValidators.inArray(new String[] {"auto", "driver", "mllib"}));
        weights = new Param<>(this, "weights", "the source weights for the bundle's body (default: the path in the features' metadata)");
        lambda = new DoubleParam(this, "lambda", "L2 strength (mean loss + lambda/2 |W|^2); 0: chosen by cross-validation", ParamValidators.gtEq(0));
        seed = new LongParam(this, "seed", "cross-validation folds and sampling (graft train's --seed)");
        maxDriverRows = new LongParam(this, "maxDriverRows", "most rows fitted on the driver (0: as many as half its heap holds at about 32 bytes per feature value)",
                ParamValidators.gtEq(0));
        maxIter = new IntParam(this, "maxIter", "most L-BFGS iterations of the MLlib fit", ParamValidators.gtEq(1));
        overwrite = new BooleanParam(this, "overwrite", "replace an existing bundle in the bundle folder");
        setDefault(featuresCol, "features");
        setDefault(labelCol, "label");
        setDefault(pathCol, "path");
        setDefault(errorCol, "error");
        setDefault(method, "auto");
        setDefault(lambda, 0.0);
        setDefault(seed, 1L);
        setDefault(maxDriverRows, 0L);
        setDefault(maxIter, 500);
        setDefault(overwrite, false);
    }

    @Override
    public String uid() {
        return uid;
    }

    public Param<String> bundle() {
        return bundle;
    }

    public Param<String> featuresCol() {
        return featuresCol;
    }

    public Param<String> labelCol() {
        return labelCol;
    }

    public Param<String> pathCol() {
        return pathCol;
    }

    public Param<String> errorCol() {
        return errorCol;
    }

    public Param<String> method() {
        return method;
    }

    public Param<String> weights() {
        return weights;
    }

    public DoubleParam lambda() {
        return lambda;
    }

    public LongParam seed() {
        return seed;
    }

    public LongParam maxDriverRows() {
        return maxDriverRows;
    }

    public IntParam maxIter() {
        return maxIter;
    }

    public BooleanParam overwrite() {
        return overwrite;
    }

    public HeadFitter setBundle(String v) {
        set(bundle, v);
        return this;
    }

    public HeadFitter setFeaturesCol(String v) {
        set(featuresCol, v);
        return this;
    }

    public HeadFitter setLabelCol(String v) {
        set(labelCol, v);
        return this;
    }

    public HeadFitter setPathCol(String v) {
        set(pathCol, v);
        return this;
    }

    public HeadFitter setErrorCol(String v) {
        set(errorCol, v);
        return this;
    }

    public HeadFitter setMethod(String v) {
        set(method, v.toLowerCase(Locale.ROOT));
        return this;
    }

    public HeadFitter setWeights(String v) {
        set(weights, v);
        return this;
    }

    public HeadFitter setLambda(double v) {
        set(lambda, v);
        return this;
    }

    public HeadFitter setSeed(long v) {
        set(seed, v);
        return this;
    }

    public HeadFitter setMaxDriverRows(long v) {
        set(maxDriverRows, v);
        return this;
    }

    public HeadFitter setMaxIter(int v) {
        set(maxIter, v);
        return this;
    }

    public HeadFitter setOverwrite(boolean v) {
        set(overwrite, v);
        return this;
    }

    /** Features of test images (same backbone): their accuracy is measured and recorded in the bundle's results. */
    public HeadFitter setTestFeatures(Dataset<?> test) {
        this.testFeatures = test;
        return this;
    }

    /** Where the features came from, in words, for the bundle's "data" record. */
    public HeadFitter setDataName(String name) {
        this.dataName = name;
        return this;
    }

    /** Where progress lines go (default: the log). */
    public HeadFitter setLog(Consumer<String> log) {
        this.log = log;
        return this;
    }

    @Override
    public StructType transformSchema(StructType schema) {
        FeaturesMeta.of(schema, $(featuresCol), "the features");
        if (!Arrays.asList(schema.fieldNames()).contains($(labelCol))) {
            throw new IllegalArgumentException("the features have no label column '" + $(labelCol) + "' (columns: "
                    + String.join(", ", schema.fieldNames()) + ")");
        }
        return new HeadModel("schema").transformSchema(schema);
    }

    @Override
    public HeadModel fit(Dataset<?> dataset) {
        if (!isDefined(bundle)) {
            throw new IllegalArgumentException("HeadFitter needs the bundle folder to write: setBundle(DIR)");
        }
        String out = $(bundle);
        checkTarget(out, dataset.sparkSession().sparkContext());
        String fcol = $(featuresCol);
        FeaturesMeta meta = FeaturesMeta.of(dataset.schema(), fcol, "the features");
        if (meta == null) {
            throw new IllegalArgumentException("column '" + fcol + "' carries no graft metadata (model, weights, preprocessing): compute the features "
                    + "with graft's features job or FeatureExtractor, and keep them in Parquet");
        }
        transformSchema(dataset.schema());
        Dataset<Row> all = dataset.toDF();
        Dataset<Row> rows = usable(all);
        long total = all.count();
        // classes: the label values sorted, as a folder's class folders are
        List<Row> counted = rows.groupBy($(labelCol)).count().collectAsList();
        List<String> classes = new ArrayList<>();
        Map<String, Long> counts = new LinkedHashMap<>();
        counted.stream().sorted((a, b) -> a.getString(0).compareTo(b.getString(0))).forEach(r -> {
            classes.add(r.getString(0));
            counts.put(r.getString(0), r.getLong(1));
        });
        long n = counts.values().stream().mapToLong(Long::longValue).sum();
        if (classes.size() < 2) {
            throw new IllegalArgumentException("fitting a head needs at least 2 classes; the features have " + classes + " (" + n + " usable rows of "
                    + total + ")");
        }
        long skipped = total - n;
        log.accept(String.format(Locale.ROOT, "features: %d rows, %d classes %s %s, %d-dimensional, from %s%s", n, classes.size(), classes,
                counts.values(), meta.dim(), meta.describe(), skipped > 0 ? "; " + skipped + " row(s) without features or label left out" : ""));
        long limit = (Long) $(maxDriverRows) > 0 ? (Long) $(maxDriverRows) : HeadFits.driverRows(meta.dim());
        String how = $(method);
        boolean driver = how.equals("driver") || (how.equals("auto") && n <= limit);
        if (how.equals("auto")) {
            log.accept(driver ? "fitting on the driver (" + n + " rows <= " + limit + ")"
                    : "fitting with Spark MLlib (" + n + " rows > " + limit + " the driver holds)");
        }
        long t0 = System.nanoTime();
        HeadFits fits = new HeadFits($(labelCol), $(featuresCol), $(pathCol), (Double) $(lambda), (Long) $(seed), (Integer) $(maxIter), log);
        HeadFits.Head head = driver ? fits.onDriver(rows, classes, meta.dim()) : fits.withMllib(rows, classes, meta.dim(), n, limit);
        log.accept(String.format(Locale.ROOT, "%s (%.1f s)", head.how(), (System.nanoTime() - t0) / 1e9));

        String id = Identifiable.randomUID("graftHeadModel");
        HeadModel model = new HeadModel(id, classes, head.weight(), head.bias(), head.how());
        Map<String, Object> extra = new LinkedHashMap<>();
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("root", dataName == null ? "(a Spark DataFrame)" : dataName);
        data.put("train_size", n);
        data.put("train_counts", new ArrayList<>(counts.values()));
        data.put("skipped_rows", skipped);
        extra.put("data", data);
        Map<String, Object> fit = new LinkedHashMap<>();
        fit.put("method", driver ? "graft probe on the Spark driver" : "Spark MLlib LogisticRegression");
        fit.put("lambda", head.lambda());
        fit.put("lambda_times_n", head.lambda() * n);
        fit.put("train_accuracy", head.trainAccuracy());
        fit.put("description", head.how());
        fit.putAll(head.details());
        fit.put("features", dev.graft.util.Json.tree(parse(meta.toJson())));
        extra.put("head_fit", fit);
        if (testFeatures != null) {
            double[] acc = accuracy(model, testFeatures);
            log.accept(String.format(Locale.ROOT, "test accuracy %.4f on %d feature rows", acc[0], (long) acc[1]));
            Map<String, Object> res = new LinkedHashMap<>();
            res.put("test_acc", acc[0]);
            res.put("test_size", (long) acc[1]);
            extra.put("results", res);
        }
        HeadBundleWriter.write(out, isDefined(weights) ? $(weights) : meta.weights(), meta, classes, head, extra, (Boolean) $(overwrite),
                dataset.sparkSession().sparkContext(), log);
        log.accept("bundle written to " + out);
        return copyValues(model.setBundle(out), ParamMap.empty()).setParent(this);
    }

    private static Object parse(String json) {
        try {
            return dev.graft.util.Json.MAPPER.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Rows with a label and features, and no error. */
    private Dataset<Row> usable(Dataset<Row> all) {
        Column ok = functions.col($(featuresCol)).isNotNull().and(functions.col($(labelCol)).isNotNull());
        if (Arrays.asList(all.schema().fieldNames()).contains($(errorCol))) {
            ok = ok.and(functions.col($(errorCol)).isNull());
        }
        return all.filter(ok);
    }

    /** Accuracy of the head on labelled feature rows (errors left out): {accuracy, rows}. */
    private double[] accuracy(HeadModel model, Dataset<?> test) {
        Dataset<Row> t = usable(test.toDF());
        HeadModel m = model.copy(ParamMap.empty()).setPredictionCol("graft_prediction").setProbabilityCol("graft_p").setTopKCol("graft_top");
        Dataset<Row> p = m.transform(t);
        long rows = p.count();
        long correct = p.filter(functions.col("graft_prediction").equalTo(functions.col($(labelCol)))).count();
        return new double[] {rows == 0 ? Double.NaN : (double) correct / rows, rows};
    }

    /** graft's output-folder policy ({@link OutputFolder}) for a local bundle folder; a Hadoop URI must not exist unless overwrite. */
    private void checkTarget(String out, SparkContext sc) {
        if (!Hadoop.isLocal(out)) {
            if (!(Boolean) $(overwrite) && Hadoop.exists(out, sc.hadoopConfiguration())) {
                throw new IllegalArgumentException(out + " already exists; choose another folder, or overwrite (--overwrite) to replace it");
            }
            return;
        }
        try {
            OutputFolder.claim(Hadoop.localPath(out), (Boolean) $(overwrite), Bundle::isBundle, "bundle", "", "");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public HeadFitter copy(ParamMap extra) {
        HeadFitter f = defaultCopy(extra);
        f.testFeatures = testFeatures;
        f.dataName = dataName;
        f.log = log;
        return f;
    }

    public static MLReader<HeadFitter> read() {
        return new DefaultParamsReader<>();
    }

    public static HeadFitter load(String path) {
        return read().load(path);
    }
}
