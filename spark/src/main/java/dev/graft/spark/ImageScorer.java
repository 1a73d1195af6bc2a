package dev.graft.spark;

import dev.graft.api.Classifier;
import dev.graft.data.BadImageException;
import dev.graft.data.RgbImage;
import dev.graft.train.Bundle;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
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
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.SerializableConfiguration;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Scores images with a trained graft bundle, as a Spark ML transformer: rows with a path column (and optionally the
 * file's bytes, as {@code spark.read().format("binaryFile")} gives them) in; the same rows, without the bytes, out
 * with the top-1 label, its probability, the top-k classes and an error column. A file that cannot be read or
 * decoded gets its reason in the error column and nulls elsewhere; it never fails the job. Each executor JVM loads
 * the bundle once (shipped with the job, see {@link Shipped}) and scores {@code batchSize} images per forward pass.
 * The probabilities are {@code graft predict}'s: the same {@link Classifier} computes them.
 *
 * <pre>{@code
 * Dataset<Row> scored = new ImageScorer().setBundle("runs/hotdog").setTopK(2)
 *         .transform(spark.read().format("binaryFile").load("s3a://photos/2024/*.jpg"));
 * }</pre>
 */
public final class ImageScorer extends ImageTransformer<ImageScorer> {
    private static final long serialVersionUID = 1L;
    /** The type of the top-k column: classes, most probable first. */
    public static final DataType TOP_K_TYPE = DataTypes.createArrayType(DataTypes.createStructType(new StructField[] {
        DataTypes.createStructField("label", DataTypes.StringType, false),
        DataTypes.createStructField("index", DataTypes.IntegerType, false),
        DataTypes.createStructField("probability", DataTypes.FloatType, false)}), false);

    private final Param<String> bundle;
    private final Param<String> predictionCol;
    private final Param<String> probabilityCol;
    private final Param<String> topKCol;
    private final Param<String> engine;
    private final IntParam topK;

    public ImageScorer() {
        this(Identifiable.randomUID("graftImageScorer"));
    }

    public ImageScorer(String uid) {
        super(uid, 16);
        bundle = new Param<>(this, "bundle", "the model bundle (the --out folder of graft train or fit-head): a local or shared path, or a Hadoop URI");
        predictionCol = new Param<>(this, "predictionCol", "output column: the most probable class");
        probabilityCol = new Param<>(this, "probabilityCol", "output column: its probability");
        topKCol = new Param<>(this, "topKCol", "output column: the top-k classes (label, index, probability), most probable first");
        topK = new IntParam(this, "topK", "classes in the top-k column", ParamValidators.gtEq(1));
        engine = new Param<>(this, "engine", "what runs the images: torch (libtorch), onnxruntime (ONNX Runtime, the bundle exported in "
                + "memory, float32) or auto (torch)", ParamValidators.inArray(new String[] {"auto", "torch", "onnxruntime"}));
        setDefault(engine, "auto");
        setDefault(predictionCol, "label");
        setDefault(probabilityCol, "probability");
        setDefault(topKCol, "top_k");
        setDefault(topK, 5);
    }

    public Param<String> engine() {
        return engine;
    }

    public ImageScorer setEngine(String v) {
        set(engine, v);
        return this;
    }

    public Param<String> bundle() {
        return bundle;
    }

    public Param<String> predictionCol() {
        return predictionCol;
    }

    public Param<String> probabilityCol() {
        return probabilityCol;
    }

    public Param<String> topKCol() {
        return topKCol;
    }

    public IntParam topK() {
        return topK;
    }

    public ImageScorer setBundle(String v) {
        set(bundle, v);
        return this;
    }

    public ImageScorer setPredictionCol(String v) {
        set(predictionCol, v);
        return this;
    }

    public ImageScorer setProbabilityCol(String v) {
        set(probabilityCol, v);
        return this;
    }

    public ImageScorer setTopKCol(String v) {
        set(topKCol, v);
        return this;
    }

    public ImageScorer setTopK(int v) {
        set(topK, v);
        return this;
    }

    public String getBundle() {
        return isDefined(bundle) ? $(bundle) : null;
    }

    @Override
    public StructType transformSchema(StructType schema) {
        ImageBatches.Layout.of(schema, $(pathCol), $(contentCol), 3);
        List<StructField> out = List.of(
                DataTypes.createStructField($(predictionCol), DataTypes.StringType, true),
                DataTypes.createStructField($(probabilityCol), DataTypes.FloatType, true),
                DataTypes.createStructField($(topKCol), TOP_K_TYPE, true));
        return ImageBatches.Layout.schema(schema, $(contentCol), out, $(errorCol));
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType out = transformSchema(dataset.schema());
        String b = getBundle();
        if (b == null) {
            throw new IllegalArgumentException("ImageScorer needs a bundle: setBundle(the --out folder of graft train)");
        }
        SparkContext sc = dataset.sparkSession().sparkContext();
        checkBundle(b, sc);
        Shipped shipped = Shipped.of(sc, b, Shipped.Ship.parse($(ship)), "bundle");
        Broadcast<SerializableConfiguration> conf = sc.broadcast(new SerializableConfiguration(sc.hadoopConfiguration()),
                scala.reflect.ClassTag$.MODULE$.apply(SerializableConfiguration.class));
        ScoreFn fn = new ScoreFn(shipped, $(precision), $(engine), (Long) $(maxPixels), (Integer) $(threads), (Integer) $(batchSize), (Integer) $(topK),
                ImageBatches.Layout.of(dataset.schema(), $(pathCol), $(contentCol), 3), conf, metrics);
        return dataset.toDF().mapPartitions(fn, Encoders.row(out));
    }

    /** Fails on the driver, before any task runs, when the bundle is not there. */
    static void checkBundle(String b, SparkContext sc) {
        if (Hadoop.isLocal(b) && !java.nio.file.Files.exists(Hadoop.localPath(b))) {
            throw new IllegalArgumentException("bundle " + b + " does not exist on the driver" + (sc.isLocal() ? ""
                    : " (in cluster deploy mode the driver runs on the cluster: give a Hadoop URI, hdfs:// or s3a://, or a shared path)"));
        }
        boolean ok = Hadoop.isLocal(b) ? Bundle.isBundle(Hadoop.localPath(b))
                : Hadoop.exists(b + "/model.json", sc.hadoopConfiguration()) && Hadoop.exists(b + "/weights.safetensors", sc.hadoopConfiguration());
        if (!ok) {
            throw new IllegalArgumentException("bundle " + b + " is not a graft model bundle (needs model.json and weights.safetensors; "
                    + "train one with graft train --out DIR, or fit one with fit-head)");
        }
    }

    /** The function each task runs: score its partition's images with the executor's classifier. */
    static final class ScoreFn implements MapPartitionsFunction<Row, Row> {
        private static final long serialVersionUID = 1L;
        private final Shipped bundle;
        private final String precision;
        private final String engine;
        private final long maxPixels;
        private final int threads;
        private final int batchSize;
        private final int topK;
        private final ImageBatches.Layout layout;
        private final Broadcast<SerializableConfiguration> conf;
        private final Metrics metrics;

        ScoreFn(Shipped bundle, String precision, String engine, long maxPixels, int threads, int batchSize, int topK, ImageBatches.Layout layout,
                Broadcast<SerializableConfiguration> conf, Metrics metrics) {
            this.bundle = bundle;
            this.precision = precision;
            this.engine = engine;
            this.maxPixels = maxPixels;
            this.threads = threads;
            this.batchSize = batchSize;
            this.topK = topK;
            this.layout = layout;
            this.conf = conf;
            this.metrics = metrics;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            return ImageBatches.run(rows, layout, batchSize, conf.value().value(), load -> {
                ExecutorModels.Lease<Classifier> lease = ExecutorModels.classifier(bundle.local(), precision, engine, maxPixels, threads, load);
                Classifier c = lease.get();
                return new ImageBatches.Work() {
                    @Override
                    public void close() {
                        lease.close();
                    }

                    @Override
                    public RgbImage decode(byte[] bytes, String name) throws BadImageException {
                        return c.decode(bytes, name);
                    }

                    @Override
                    public Object[][] apply(List<RgbImage> images) {
                        List<List<Classifier.Prediction>> preds = c.predict(images, topK);
                        Object[][] out = new Object[preds.size()][];
                        for (int i = 0; i < out.length; i++) {
                            List<Classifier.Prediction> p = preds.get(i);
                            List<Row> top = new ArrayList<>(p.size());
                            for (Classifier.Prediction q : p) {
                                top.add(RowFactory.create(q.label(), q.index(), q.probability()));
                            }
                            out[i] = new Object[] {p.get(0).label(), p.get(0).probability(), seq(top)};
                        }
                        return out;
                    }
                };
            }, metrics);
        }
    }

    /** A list as the Scala sequence Spark's row encoder wants for array columns. */
    static scala.collection.Seq<Row> seq(List<Row> rows) {
        return scala.jdk.javaapi.CollectionConverters.asScala(rows).toSeq();
    }

    @Override
    public ImageScorer copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    /** Reads a scorer saved with {@code write().save(path)} (its parameters; the bundle is referenced by path). */
    public static MLReader<ImageScorer> read() {
        return new DefaultParamsReader<>();
    }

    public static ImageScorer load(String path) {
        return read().load(path);
    }
}
