package dev.graft.spark;

import dev.graft.train.FeatureSet;
import dev.graft.train.HeadBundle;
import dev.graft.train.LinearProbe;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.linalg.Matrix;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.storage.StorageLevel;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@link HeadFitter}'s two ways to fit a head on feature rows: graft's probe on the driver, or Spark MLlib's
 * logistic regression (the same objective) across the cluster.
 */
final class HeadFits {
    /** The head fitted, however it was. */
    record Head(float[] weight, float[] bias, double lambda, String how, double trainAccuracy, Map<String, Object> details) {
    }

    private final String labelCol;
    private final String featuresCol;
    private final String pathCol;
    private final double lambda;
    private final long seed;
    private final int maxIter;
    private final Consumer<String> log;

    /** The columns to read, the L2 strength (0: cross-validated), the folds' seed and MLlib's iteration bound. */
    HeadFits(String labelCol, String featuresCol, String pathCol, double lambda, long seed, int maxIter, Consumer<String> log) {
        this.labelCol = labelCol;
        this.featuresCol = featuresCol;
        this.pathCol = pathCol;
        this.lambda = lambda;
        this.seed = seed;
        this.maxIter = maxIter;
        this.log = log;
    }

    /**
     * Rows the driver fits by default: as many as half its heap holds at the probe's peak, about 32 bytes per feature
     * value (the collected rows, the sorted set, the cross-validation folds' copies and the float64 copy the engine
     * multiplies).
     */
    static long driverRows(int dim) {
        return Math.max(1000, Runtime.getRuntime().maxMemory() / (64L * Math.max(1, dim)));
    }

    Head onDriver(Dataset<Row> rows, List<String> classes, int dim) {
        long t0 = System.nanoTime();
        FeatureSet fs = collect(rows, classes, dim);
        log.accept(String.format(Locale.ROOT, "collected %d feature rows on the driver in %.1f s", fs.size(), (System.nanoTime() - t0) / 1e9));
        if (lambda > 0) {
            LinearProbe lp = new LinearProbe(classes.size(), dim);
            LinearProbe.Fit f = lp.fit(fs.sorted(), lambda, 500);
            return new Head(f.weight(), f.bias(), f.lambda(), String.format(Locale.ROOT, "probe: logistic regression on %d feature vectors, "
                    + "lambda %.2g as given, train accuracy %.3f", fs.size(), f.lambda(), lp.accuracy(f, fs)), lp.accuracy(f, fs), Map.of());
        }
        HeadBundle.ProbeFit p = HeadBundle.fitProbe(fs, classes.size(), seed);
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("cross_validation", p.cv().describe());
        return new Head(p.weight(), p.bias(), p.lambda(), p.description(), p.trainAccuracy(), details);
    }

    Head withMllib(Dataset<Row> rows, List<String> classes, int dim, long n, long limit) {
        double lam = lambda;
        Map<String, Object> details = new LinkedHashMap<>();
        String chosen;
        if (lam > 0) {
            chosen = String.format(Locale.ROOT, "lambda %.3g as given", lam);
        } else {
            double fraction = Math.min(1.0, (double) limit / n);
            Dataset<Row> sample = fraction >= 1 ? rows : rows.sample(false, fraction, seed);
            FeatureSet fs = collect(sample, classes, dim).sorted();
            LinearProbe.CrossValidation cv = new LinearProbe(classes.size(), dim).crossValidate(fs, seed);
            double c = cv.lambda() * fs.size();
            lam = c / n;
            chosen = String.format(Locale.ROOT, "lambda %.3g = %.0f / n: the strength graft's %d-fold cross-validation chose on %s (%s)",
                    lam, c, cv.folds(), fs.size() == n ? "all " + n + " rows" : "a sample of " + fs.size() + " of " + n + " rows", cv.describe());
            details.put("cross_validation", cv.describe());
            details.put("cross_validation_rows", fs.size());
        }
        Column idx = functions.array_position(functions.array(classes.stream().map(functions::lit).toArray(Column[]::new)),
                functions.col(labelCol)).minus(1).cast("double");
        Dataset<Row> train = rows.select(org.apache.spark.ml.functions.array_to_vector(functions.col(featuresCol)).as("graft_x"),
                idx.as("graft_y")).persist(StorageLevel.MEMORY_AND_DISK());
        try {
            LogisticRegression lr = new LogisticRegression().setFamily("multinomial").setRegParam(lam).setElasticNetParam(0.0)
                    .setStandardization(false).setFitIntercept(true).setMaxIter(maxIter).setTol(1e-9)
                    .setFeaturesCol("graft_x").setLabelCol("graft_y");
            LogisticRegressionModel m = lr.fit(train);
            Matrix coef = m.coefficientMatrix();
            if (coef.numRows() != classes.size() || coef.numCols() != dim) {
                throw new IllegalStateException("MLlib fitted " + coef.numRows() + " x " + coef.numCols() + " coefficients for " + classes.size()
                        + " classes of " + dim + " features");
            }
            float[] w = new float[classes.size() * dim];
            for (int c = 0; c < classes.size(); c++) {
                for (int j = 0; j < dim; j++) {
                    w[c * dim + j] = (float) coef.apply(c, j);
                }
            }
            double[] iv = m.interceptVector().toArray();
            float[] b = new float[classes.size()];
            for (int c = 0; c < b.length; c++) {
                b[c] = (float) iv[c];
            }
            double acc = m.hasSummary() ? m.summary().accuracy() : Double.NaN;
            int iters = m.hasSummary() ? m.summary().totalIterations() : -1;
            details.put("iterations", iters);
            String how = String.format(Locale.ROOT, "Spark MLlib multinomial logistic regression on %d feature vectors (L2, no standardization, "
                    + "%d L-BFGS iterations), %s, train accuracy %.3f", n, iters, chosen, acc);
            return new Head(w, b, lam, how, acc, details);
        } finally {
            train.unpersist();
        }
    }

    /** The rows as graft's feature set on the driver (ids: the paths, so folds follow path order as in graft train). */
    private FeatureSet collect(Dataset<Row> rows, List<String> classes, int dim) {
        boolean hasPath = Arrays.asList(rows.schema().fieldNames()).contains(pathCol);
        Dataset<Row> sel = rows.select(functions.col(labelCol), functions.col(featuresCol),
                hasPath ? functions.col(pathCol) : functions.monotonically_increasing_id().cast("string"));
        List<float[]> xs = new ArrayList<>();
        List<Integer> ys = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        Iterator<Row> it = sel.toLocalIterator();
        while (it.hasNext()) {
            Row r = it.next();
            float[] x = HeadModel.floats(r, 1);
            if (x.length != dim) {
                throw new IllegalArgumentException("a feature row (" + r.get(2) + ") has " + x.length + " values, the metadata says " + dim);
            }
            xs.add(x);
            ys.add(classes.indexOf(r.getString(0)));
            ids.add(r.isNullAt(2) ? "" : r.get(2).toString());
        }
        int m = xs.size();
        float[] flat = new float[m * dim];
        int[] labels = new int[m];
        int[] samples = new int[m];
        for (int i = 0; i < m; i++) {
            System.arraycopy(xs.get(i), 0, flat, i * dim, dim);
            labels[i] = ys.get(i);
            samples[i] = i;
        }
        return new FeatureSet(flat, labels, samples, ids.toArray(new String[0]), dim);
    }
}
