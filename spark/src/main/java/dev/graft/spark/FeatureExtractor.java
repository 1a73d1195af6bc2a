package dev.graft.spark;

import dev.graft.data.BadImageException;
import dev.graft.data.RgbImage;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.SerializableConfiguration;

import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Pooled backbone features of images, as a Spark ML transformer: rows with a path column (and optionally the bytes)
 * in; the same rows, without the bytes, out with a {@code features} column (float array, the body's pooled output
 * with the weights' preprocessing, as graft's probe sees it) and an error column. The features column's metadata
 * ({@link FeaturesMeta}) names the model, the weights and the preprocessing, so {@link HeadFitter} can build a
 * bundle from them. Each executor JVM loads the backbone once.
 *
 * <pre>{@code
 * Dataset<Row> f = new FeatureExtractor().setModel("mobilenet_v1_0.75").setWeights("hdfs:///models/mobilenet")
 *         .transform(labelledPaths);
 * }</pre>
 */
public final class FeatureExtractor extends ImageTransformer<FeatureExtractor> {
    private static final long serialVersionUID = 1L;
    private static final Map<String, Path> DRIVER_COPIES = new ConcurrentHashMap<>();

    private final Param<String> model;
    private final Param<String> weights;
    private final Param<String> normalization;
    private final IntParam imageSize;
    private final BooleanParam shortSide;
    private final Param<String> featuresCol;
    private transient FeaturesMeta lastMeta;

    public FeatureExtractor() {
        this(Identifiable.randomUID("graftFeatureExtractor"));
    }

    public FeatureExtractor(String uid) {
        super(uid, 32);
        model = new Param<>(this, "model", "source architecture, as graft train's --model (graft models lists them)");
        weights = new Param<>(this, "weights", "the source weights: .pth, .safetensors, Keras .h5, or a TF.js model.json / its folder (any Hadoop path)");
        normalization = new Param<>(this, "normalization", "weights (their own), imagenet or minus1to1",
                ParamValidators.inArray(new String[] {"weights", "imagenet", "minus1to1"}));
        imageSize = new IntParam(this, "imageSize", "input crop size (0: the weights')", ParamValidators.gtEq(0));
        shortSide = new BooleanParam(this, "shortSide", "test resize keeps the aspect ratio (torchvision's Resize(256)) instead of the book's 256x256");
        featuresCol = new Param<>(this, "featuresCol", "output column: the pooled features (array<float>)");
        setDefault(model, "resnet18");
        setDefault(normalization, "weights");
        setDefault(imageSize, 0);
        setDefault(shortSide, false);
        setDefault(featuresCol, "features");
    }

    public Param<String> model() {
        return model;
    }

    public Param<String> weights() {
        return weights;
    }

    public Param<String> normalization() {
        return normalization;
    }

    public IntParam imageSize() {
        return imageSize;
    }

    public BooleanParam shortSide() {
        return shortSide;
    }

    public Param<String> featuresCol() {
        return featuresCol;
    }

    public FeatureExtractor setModel(String v) {
        set(model, v);
        return this;
    }

    public FeatureExtractor setWeights(String v) {
        set(weights, v);
        return this;
    }

    public FeatureExtractor setNormalization(String v) {
        set(normalization, v.toLowerCase(java.util.Locale.ROOT));
        return this;
    }

    public FeatureExtractor setImageSize(int v) {
        set(imageSize, v);
        return this;
    }

    public FeatureExtractor setShortSide(boolean v) {
        set(shortSide, v);
        return this;
    }

    public FeatureExtractor setFeaturesCol(String v) {
        set(featuresCol, v);
        return this;
    }

    /** The metadata of the last {@link #transform}'s features column. */
    public FeaturesMeta lastMetadata() {
        return lastMeta;
    }

    @Override
    public StructType transformSchema(StructType schema) {
        ImageBatches.Layout.of(schema, $(pathCol), $(contentCol), 1);
        List<StructField> out = List.of(DataTypes.createStructField($(featuresCol),
                DataTypes.createArrayType(DataTypes.FloatType, false), true));
        return ImageBatches.Layout.schema(schema, $(contentCol), out, $(errorCol));
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType out = transformSchema(dataset.schema());
        if (!isDefined(weights)) {
            throw new IllegalArgumentException("FeatureExtractor needs the source weights: setWeights(a .pth, .safetensors, .h5 or TF.js folder); "
                    + "on a cluster graft downloads nothing");
        }
        SparkContext sc = dataset.sparkSession().sparkContext();
        String w = $(weights);
        // the driver loads the backbone once: it checks the weights before any task runs and tells the metadata
        FeatureModel.Spec driverSpec = spec(driverLocal(w, sc).toString());
        long[] load = {0};
        FeaturesMeta meta;
        try (ExecutorModels.Lease<FeatureModel> lease = ExecutorModels.features(driverSpec, (Integer) $(threads), load)) {
            FeatureModel fm = lease.get();
            if (metrics != null && load[0] > 0) {
                metrics.loads.add(1); // in local mode the executors share this load
                metrics.loadNanos.add(load[0]);
            }
            meta = new FeaturesMeta(fm.modelName(), w, fm.backbone().sha256(), fm.dim(), fm.preprocessing(), fm.precision());
        }
        this.lastMeta = meta;
        Shipped shipped = Shipped.of(sc, w, Shipped.Ship.parse($(ship)), "weights");
        Broadcast<SerializableConfiguration> conf = sc.broadcast(new SerializableConfiguration(sc.hadoopConfiguration()),
                scala.reflect.ClassTag$.MODULE$.apply(SerializableConfiguration.class));
        FeaturesFn fn = new FeaturesFn(spec(null), shipped, (Integer) $(threads), (Integer) $(batchSize),
                ImageBatches.Layout.of(dataset.schema(), $(pathCol), $(contentCol), 1), conf, metrics);
        String col = $(featuresCol);
        return dataset.toDF().mapPartitions(fn, Encoders.row(out))
                .withColumn(col, functions.col(col).as(col, meta.toMetadata()));
    }

    private FeatureModel.Spec spec(String localWeights) {
        return new FeatureModel.Spec($(model), localWeights, $(normalization), (Integer) $(imageSize), (Boolean) $(shortSide), $(precision),
                (Long) $(maxPixels));
    }

    /** The weights as a local path on the driver: in place, or copied once from a Hadoop URI. */
    static Path driverLocal(String path, SparkContext sc) {
        if (Hadoop.isLocal(path)) {
            Path p = Hadoop.localPath(path).toAbsolutePath().normalize();
            if (!java.nio.file.Files.exists(p)) {
                throw new IllegalArgumentException("weights " + p + " do not exist on the driver" + (sc.isLocal() ? ""
                        : " (in cluster deploy mode the driver runs on the cluster: give a Hadoop URI, hdfs:// or s3a://, or a shared path)"));
            }
            return p;
        }
        return DRIVER_COPIES.computeIfAbsent(path, p -> Hadoop.copyToLocal(p, Hadoop.tempDir("graft-weights"), sc.hadoopConfiguration()));
    }

    /** The function each task runs: features of its partition's images with the executor's backbone. */
    static final class FeaturesFn implements MapPartitionsFunction<Row, Row> {
        private static final long serialVersionUID = 1L;
        private final FeatureModel.Spec spec;
        private final Shipped weights;
        private final int threads;
        private final int batchSize;
        private final ImageBatches.Layout layout;
        private final Broadcast<SerializableConfiguration> conf;
        private final Metrics metrics;

        FeaturesFn(FeatureModel.Spec spec, Shipped weights, int threads, int batchSize, ImageBatches.Layout layout,
                   Broadcast<SerializableConfiguration> conf, Metrics metrics) {
            this.spec = spec;
            this.weights = weights;
            this.threads = threads;
            this.batchSize = batchSize;
            this.layout = layout;
            this.conf = conf;
            this.metrics = metrics;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            return ImageBatches.run(rows, layout, batchSize, conf.value().value(), load -> {
                FeatureModel.Spec local = new FeatureModel.Spec(spec.model(), weights.local().toString(), spec.normalization(), spec.imageSize(),
                        spec.shortSide(), spec.precision(), spec.maxPixels());
                ExecutorModels.Lease<FeatureModel> lease = ExecutorModels.features(local, threads, load);
                FeatureModel m = lease.get();
                return new ImageBatches.Work() {
                    @Override
                    public void close() {
                        lease.close();
                    }

                    @Override
                    public RgbImage decode(byte[] bytes, String name) throws BadImageException {
                        return m.decode(bytes, name);
                    }

                    @Override
                    public Object[][] apply(List<RgbImage> images) {
                        float[][] f = m.features(images);
                        Object[][] out = new Object[f.length][];
                        for (int i = 0; i < f.length; i++) {
                            out[i] = new Object[] {f[i]};
                        }
                        return out;
                    }
                };
            }, metrics);
        }
    }

    @Override
    public FeatureExtractor copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    public static MLReader<FeatureExtractor> read() {
        return new DefaultParamsReader<>();
    }

    public static FeatureExtractor load(String path) {
        return read().load(path);
    }
}
