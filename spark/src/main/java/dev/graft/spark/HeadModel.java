package dev.graft.spark;

import com.fasterxml.jackson.databind.JsonNode;
import dev.graft.train.Bundle;
import dev.graft.util.Json;
import dev.graft.weights.SafeTensors;
import dev.graft.weights.StateDict;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

/**
 * A head fitted by {@link HeadFitter}: the bundle it wrote ({@link #getBundle()}: score images with it by
 * {@link ImageScorer}, {@code graft predict}, {@code serve} or {@code Classifier}), and as a transformer the same
 * head applied to features rows (softmax of W x + b): the predicted class, its probability and the top-k, without
 * touching an image again. Rows without features get nulls.
 */
public final class HeadModel extends Model<HeadModel> implements DefaultParamsWritable {
    private static final long serialVersionUID = 1L;
    private final String uid;
    private final Param<String> bundle;
    private final Param<String> featuresCol;
    private final Param<String> predictionCol;
    private final Param<String> probabilityCol;
    private final Param<String> topKCol;
    private final IntParam topK;
    private List<String> labels;
    private float[] weight;
    private float[] bias;
    private transient String description;

    /** A model read back from its bundle (the head's weights are read when first needed). */
    public HeadModel(String uid) {
        this.uid = uid;
        bundle = new Param<>(this, "bundle", "the bundle holding this head");
        featuresCol = new Param<>(this, "featuresCol", "input column: pooled features (array<float>)");
        predictionCol = new Param<>(this, "predictionCol", "output column: the most probable class");
        probabilityCol = new Param<>(this, "probabilityCol", "output column: its probability");
        topKCol = new Param<>(this, "topKCol", "output column: the top-k classes (label, index, probability)");
        topK = new IntParam(this, "topK", "classes in the top-k column", ParamValidators.gtEq(1));
        setDefault(featuresCol, "features");
        setDefault(predictionCol, "prediction");
        setDefault(probabilityCol, "probability");
        setDefault(topKCol, "top_k");
        setDefault(topK, 5);
    }

    HeadModel(String uid, List<String> labels, float[] weight, float[] bias, String description) {
        this(uid);
        this.labels = List.copyOf(labels);
        this.weight = weight;
        this.bias = bias;
        this.description = description;
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

    public HeadModel setBundle(String v) {
        set(bundle, v);
        return this;
    }

    public HeadModel setFeaturesCol(String v) {
        set(featuresCol, v);
        return this;
    }

    public HeadModel setPredictionCol(String v) {
        set(predictionCol, v);
        return this;
    }

    public HeadModel setProbabilityCol(String v) {
        set(probabilityCol, v);
        return this;
    }

    public HeadModel setTopKCol(String v) {
        set(topKCol, v);
        return this;
    }

    public HeadModel setTopK(int v) {
        set(topK, v);
        return this;
    }

    /** The bundle folder this head was written to. */
    public String getBundle() {
        return isDefined(bundle) ? $(bundle) : null;
    }

    public List<String> labels() {
        ensureLoaded();
        return labels;
    }

    /** W, row-major: classes x feature dimension. */
    public float[] weight() {
        ensureLoaded();
        return weight.clone();
    }

    public float[] bias() {
        ensureLoaded();
        return bias.clone();
    }

    /** How the head was fitted, in words (null for a model read back). */
    public String description() {
        return description;
    }

    private synchronized void ensureLoaded() {
        if (weight != null) {
            return;
        }
        String b = getBundle();
        if (b == null || !Hadoop.isLocal(b)) {
            throw new IllegalStateException("this HeadModel has no head loaded and no local bundle to read it from (" + b + ")");
        }
        Path dir = Hadoop.localPath(b);
        if (!Bundle.isBundle(dir)) {
            throw new IllegalArgumentException(dir + " is not a graft model bundle (needs model.json and weights.safetensors)");
        }
        try {
            JsonNode m = Json.read(dir.resolve("model.json"));
            List<String> l = new ArrayList<>();
            m.path("labels").forEach(x -> l.add(x.asText()));
            String head = m.path("head").asText();
            StateDict sd = SafeTensors.read(dir.resolve("weights.safetensors"));
            weight = sd.require(head + ".weight").toFloats();
            bias = sd.require(head + ".bias").toFloats();
            labels = List.copyOf(l);
        } catch (IOException e) {
            throw new UncheckedIOException(dir.resolve("model.json") + " cannot be read: " + e.getMessage(), e);
        }
    }

    @Override
    public StructType transformSchema(StructType schema) {
        String f = $(featuresCol);
        if (!Arrays.asList(schema.fieldNames()).contains(f)) {
            throw new IllegalArgumentException("the input has no features column '" + f + "' (columns: " + String.join(", ", schema.fieldNames()) + ")");
        }
        List<StructField> fields = new ArrayList<>(Arrays.asList(schema.fields()));
        for (String c : List.of($(predictionCol), $(probabilityCol), $(topKCol))) {
            if (Arrays.asList(schema.fieldNames()).contains(c)) {
                throw new IllegalArgumentException("the input already has a column '" + c + "'; choose another output column name");
            }
        }
        fields.add(DataTypes.createStructField($(predictionCol), DataTypes.StringType, true));
        fields.add(DataTypes.createStructField($(probabilityCol), DataTypes.FloatType, true));
        fields.add(DataTypes.createStructField($(topKCol), ImageScorer.TOP_K_TYPE, true));
        return DataTypes.createStructType(fields);
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType out = transformSchema(dataset.schema());
        ensureLoaded();
        int index = Arrays.asList(dataset.schema().fieldNames()).indexOf($(featuresCol));
        return dataset.toDF().mapPartitions(new HeadFn(labels, weight, bias, index, (Integer) $(topK)), Encoders.row(out));
    }

    /** Softmax probabilities of W x + b for one feature vector (float64 sums, as graft's probe evaluates). */
    static float[] probabilities(float[] w, float[] b, float[] x) {
        int classes = b.length;
        int dim = x.length;
        if (w.length != classes * dim) {
            throw new IllegalArgumentException("a feature vector has " + dim + " values, but the head expects " + w.length / classes);
        }
        double[] z = dev.graft.train.LinearProbe.softmax(w, b, x, 0, dim);
        float[] p = new float[classes];
        for (int c = 0; c < classes; c++) {
            p[c] = (float) z[c];
        }
        return p;
    }

    static float[] floats(Row r, int index) {
        List<Object> l = r.getList(index);
        float[] x = new float[l.size()];
        for (int j = 0; j < x.length; j++) {
            x[j] = ((Number) l.get(j)).floatValue();
        }
        return x;
    }

    private static final class HeadFn implements MapPartitionsFunction<Row, Row> {
        private static final long serialVersionUID = 1L;
        private final List<String> labels;
        private final float[] w;
        private final float[] b;
        private final int index;
        private final int topK;

        HeadFn(List<String> labels, float[] w, float[] b, int index, int topK) {
            this.labels = new ArrayList<>(labels);
            this.w = w;
            this.b = b;
            this.index = index;
            this.topK = topK;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            return new Iterator<>() {
                @Override
                public boolean hasNext() {
                    return rows.hasNext();
                }

                @Override
                public Row next() {
                    Row r = rows.next();
                    Object[] v = new Object[r.length() + 3];
                    for (int i = 0; i < r.length(); i++) {
                        v[i] = r.get(i);
                    }
                    if (!r.isNullAt(index)) {
                        float[] p = probabilities(w, b, floats(r, index));
                        Integer[] order = new Integer[p.length];
                        for (int c = 0; c < p.length; c++) {
                            order[c] = c;
                        }
                        Arrays.sort(order, (x, y) -> Float.compare(p[y], p[x]));
                        List<Row> top = new ArrayList<>();
                        for (int k = 0; k < Math.min(topK, p.length); k++) {
                            top.add(RowFactory.create(labels.get(order[k]), order[k], p[order[k]]));
                        }
                        v[r.length()] = labels.get(order[0]);
                        v[r.length() + 1] = p[order[0]];
                        v[r.length() + 2] = ImageScorer.seq(top);
                    }
                    return RowFactory.create(v);
                }
            };
        }
    }

    @Override
    public HeadModel copy(ParamMap extra) {
        HeadModel m = new HeadModel(uid);
        m.labels = labels;
        m.weight = weight;
        m.bias = bias;
        m.description = description;
        return copyValues(m, extra).setParent(parent());
    }

    /** Reads a model saved with {@code write().save(path)}: its parameters, and the head from its bundle. */
    public static MLReader<HeadModel> read() {
        return new DefaultParamsReader<>();
    }

    public static HeadModel load(String path) {
        return read().load(path);
    }
}
