package dev.graft.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.graft.model.nn.Torch;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Multinomial logistic regression on cached body features, the strong cheap baseline for small data: minimises
 * mean cross-entropy + (lambda / 2) |W|^2 with L-BFGS (the objective's two matrix products run in the engine, in
 * float32). With lambda = 1 / n it is scikit-learn's LogisticRegression(C=1); {@link #crossValidate} picks lambda
 * from the training features alone.
 */
public final class LinearProbe {
    /**
     * The regularisation strengths cross-validation chooses from, times 1/n: scikit-learn's default C = 1 and
     * stronger (C down to 1/300). Never weaker: on separable features held-out log-loss keeps falling as lambda
     * does, towards a head so confident that fine-tuning from it barely moves.
     */
    static final double[] LAMBDAS_TIMES_N = {1, 3, 10, 30, 100, 300};
    private final int classes;
    private final int dim;

    public LinearProbe(int classes, int dim) {
        this.classes = classes;
        this.dim = dim;
    }

    /** Fitted weights: W row-major (classes x dim) then bias (classes). */
    public record Fit(float[] weight, float[] bias, double lambda, int iterations, double loss) {
    }

    /**
     * The choice of lambda by stratified k-fold cross-validation: the best held-out accuracy, ties broken by the
     * lower held-out log-loss.
     */
    public record CrossValidation(double lambda, int folds, double[] lambdas, double[] loss, double[] accuracy) {
        public String describe() {
            int best = Arrays.binarySearch(lambdas, lambda);
            return String.format(Locale.ROOT, "lambda %.2g by %d-fold cross-validation (held-out accuracy %.3f, log-loss %.3f)",
                    lambda, folds, accuracy[best], loss[best]);
        }

        /** The chosen lambda times the number of images it was chosen for: the strength to use again on more images. */
        public double timesN() {
            return lambda * LAMBDAS_TIMES_N[0] / lambdas[0];
        }

        public double bestAccuracy() {
            return accuracy[Arrays.binarySearch(lambdas, lambda)];
        }
    }

    public Fit fit(FeatureSet train, double lambda, int maxIter) {
        return fit(train, lambda, maxIter, null);
    }

    /** Fits from {@code start} (a previous fit's weights: warm start along a lambda path) or from zero. */
    public Fit fit(FeatureSet train, double lambda, int maxIter, Fit start) {
        try (NDManager m = Torch.newManager()) {
            return Torch.noGrad(() -> lbfgs(new Objective(m, train, lambda), lambda, maxIter, start));
        }
    }

    /**
     * Picks lambda by stratified k-fold cross-validation on {@code train} (k = 5, fewer when a class has fewer
     * images), each fold's fits warm-started along the lambda path from strong to weak regularisation.
     */
    public CrossValidation crossValidate(FeatureSet train, long seed) {
        int[] counts = new int[classes];
        for (int y : train.labels()) {
            counts[y]++;
        }
        int smallest = Arrays.stream(counts).filter(c -> c > 0).min().orElse(0);
        int k = Math.max(2, Math.min(5, smallest));
        int[] fold = folds(train.labels(), k, seed);
        double[] lambdas = new double[LAMBDAS_TIMES_N.length];
        for (int i = 0; i < lambdas.length; i++) {
            lambdas[i] = LAMBDAS_TIMES_N[i] / train.size();
        }
        double[] loss = new double[lambdas.length];
        double[] correct = new double[lambdas.length];
        for (int f = 0; f < k; f++) {
            FeatureSet fit = train.select(fold, f, false);
            FeatureSet held = train.select(fold, f, true);
            if (fit.size() == 0 || held.size() == 0) {
                continue;
            }
            Fit previous = null;
            for (int i = lambdas.length - 1; i >= 0; i--) {
                previous = fit(fit, lambdas[i], 300, previous);
                double[] lc = lossAndCorrect(previous, held);
                loss[i] += lc[0];
                correct[i] += lc[1];
            }
        }
        int best = 0;
        double[] acc = new double[lambdas.length];
        for (int i = 0; i < lambdas.length; i++) {
            loss[i] /= train.size();
            acc[i] = correct[i] / train.size();
        }
        for (int i = 0; i < lambdas.length; i++) {
            if (acc[i] > acc[best] || (acc[i] == acc[best] && loss[i] < loss[best])) {
                best = i;
            }
        }
        return new CrossValidation(lambdas[best], k, lambdas, loss, acc);
    }

    /** L-BFGS iterations of each out-of-fold fit: past ~100 the loss moves by 1e-4 relative and the probabilities with it. */
    static final int OUT_OF_FOLD_ITERATIONS = 100;

    /**
     * Out-of-fold class probabilities of every row of {@code train} (n x classes): each row is predicted by the fit
     * at {@code lambda} on the other {@code k - 1} folds, with the folds {@link #crossValidate} deals for the same
     * rows, k and seed. The input of confident learning (the data check): no row is scored by a fit that saw its label.
     */
    public double[][] outOfFold(FeatureSet train, double lambda, int k, long seed) {
        int[] fold = folds(train.labels(), k, seed);
        double[][] out = new double[train.size()][];
        for (int f = 0; f < k; f++) {
            FeatureSet fit = train.select(fold, f, false);
            if (fit.size() == 0) {
                continue;
            }
            Fit w = fit(fit, lambda, OUT_OF_FOLD_ITERATIONS);
            for (int n = 0; n < train.size(); n++) {
                if (fold[n] == f) {
                    out[n] = probabilities(w, train.features(), n * dim);
                }
            }
        }
        return out;
    }

    /** Softmax of one row's logits under fitted weights, in double. */
    double[] probabilities(Fit fit, float[] x, int offset) {
        return softmax(fit.weight(), fit.bias(), x, offset, dim);
    }

    /**
     * Softmax of {@code W x + b} for the {@code dim} features of {@code x} from {@code offset}, in double (the probe's
     * evaluation, and the Spark jobs' scoring of a fitted head).
     */
    public static double[] softmax(float[] weight, float[] bias, float[] x, int offset, int dim) {
        int classes = bias.length;
        double[] z = new double[classes];
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < classes; c++) {
            double v = bias[c];
            for (int j = 0; j < dim; j++) {
                v += (double) weight[c * dim + j] * x[offset + j];
            }
            z[c] = v;
            max = Math.max(max, v);
        }
        double sum = 0;
        for (int c = 0; c < classes; c++) {
            z[c] = Math.exp(z[c] - max);
            sum += z[c];
        }
        for (int c = 0; c < classes; c++) {
            z[c] /= sum;
        }
        return z;
    }

    /** Fold index per sample: each class's samples shuffled (seeded) and dealt round-robin into k folds. */
    static int[] folds(int[] labels, int k, long seed) {
        int[] fold = new int[labels.length];
        int classes = Arrays.stream(labels).max().orElse(-1) + 1;
        SplittableRandom rng = new SplittableRandom(seed * 31 + 7);
        for (int c = 0; c < classes; c++) {
            List<Integer> idx = new ArrayList<>();
            for (int i = 0; i < labels.length; i++) {
                if (labels[i] == c) {
                    idx.add(i);
                }
            }
            for (int i = idx.size() - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                Integer t = idx.get(i);
                idx.set(i, idx.get(j));
                idx.set(j, t);
            }
            for (int i = 0; i < idx.size(); i++) {
                fold[idx.get(i)] = i % k;
            }
        }
        return fold;
    }

    /** Predictions of fitted weights on a feature set. */
    public Evaluation evaluate(Fit fit, FeatureSet fs) {
        Evaluator.Collector col = new Evaluator.Collector(fs.size(), classes);
        float[] logits = new float[classes];
        for (int n = 0; n < fs.size(); n++) {
            for (int c = 0; c < classes; c++) {
                double v = fit.bias()[c];
                for (int j = 0; j < dim; j++) {
                    v += fit.weight()[c * dim + j] * fs.features()[n * dim + j];
                }
                logits[c] = (float) v;
            }
            col.add(logits, new int[] {fs.labels()[n]}, new int[] {fs.samples()[n]});
        }
        return col.finish(0);
    }

    /** Accuracy of fitted weights on a feature set. */
    public double accuracy(Fit fit, FeatureSet fs) {
        return fs.size() == 0 ? Double.NaN : lossAndCorrect(fit, fs)[1] / fs.size();
    }

    /** Summed log-loss and number correct of a fit on a feature set. */
    double[] lossAndCorrect(Fit fit, FeatureSet fs) {
        double loss = 0;
        int correct = 0;
        double[] z = new double[classes];
        for (int n = 0; n < fs.size(); n++) {
            int best = 0;
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) {
                double v = fit.bias()[c];
                for (int j = 0; j < dim; j++) {
                    v += fit.weight()[c * dim + j] * fs.features()[n * dim + j];
                }
                z[c] = v;
                if (v > max) {
                    max = v;
                    best = c;
                }
            }
            double sum = 0;
            for (int c = 0; c < classes; c++) {
                sum += Math.exp(z[c] - max);
            }
            loss += Math.log(sum) + max - z[fs.labels()[n]];
            if (best == fs.labels()[n]) {
                correct++;
            }
        }
        return new double[] {loss, correct};
    }

    private Fit lbfgs(Objective f, double lambda, int maxIter, Fit start) {
        int p = classes * dim + classes;
        double[] x = new double[p];
        if (start != null) {
            for (int i = 0; i < classes * dim; i++) {
                x[i] = start.weight()[i];
            }
            for (int c = 0; c < classes; c++) {
                x[classes * dim + c] = start.bias()[c];
            }
        }
        Lbfgs.Result r = Lbfgs.minimize(f::eval, x, maxIter);
        x = r.x();
        double fx = r.value();
        int it = r.iterations();
        float[] w = new float[classes * dim];
        float[] b = new float[classes];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) x[i];
        }
        for (int c = 0; c < classes; c++) {
            b[c] = (float) x[classes * dim + c];
        }
        return new Fit(w, b, lambda, it, fx);
    }

    /**
     * Mean cross-entropy + (lambda / 2) |W|^2 and its gradient, with X and the one-hot labels held by the engine in
     * float32 (its matrix products are the cost; L-BFGS itself runs in double), so a step of a 75-class probe on a
     * few thousand images is two single-precision products.
     */
    private final class Objective {
        final NDManager m;
        final NDArray x;
        final NDArray onehot;
        final double lambda;
        final int n;

        Objective(NDManager m, FeatureSet data, double lambda) {
            this.m = m;
            this.n = data.size();
            this.x = Torch.floats(m, data.features(), 0, new Shape(n, dim));
            float[] oh = new float[n * classes];
            for (int i = 0; i < n; i++) {
                oh[i * classes + data.labels()[i]] = 1;
            }
            this.onehot = Torch.floats(m, oh, 0, new Shape(n, classes));
            this.lambda = lambda;
        }

        double eval(double[] p, double[] grad) {
            try (NDManager s = m.newSubManager()) {
                float[] wf = new float[classes * dim];
                float[] bf = new float[classes];
                for (int i = 0; i < wf.length; i++) {
                    wf[i] = (float) p[i];
                }
                for (int c = 0; c < classes; c++) {
                    bf[c] = (float) p[wf.length + c];
                }
                NDArray w = Torch.floats(s, wf, 0, new Shape(classes, dim));
                NDArray b = Torch.floats(s, bf, 0, new Shape(classes));
                NDArray logp = x.matMul(w.transpose()).add(b).logSoftmax(1);
                double data = -logp.mul(onehot).sum().getFloat() / n;
                NDArray diff = logp.exp().sub(onehot).div(n);
                float[] gw = diff.transpose().matMul(x).toFloatArray();
                float[] gb = diff.sum(new int[] {0}).toFloatArray();
                double reg = 0;
                for (int i = 0; i < gw.length; i++) {
                    grad[i] = gw[i] + lambda * p[i];
                    reg += p[i] * p[i];
                }
                for (int c = 0; c < classes; c++) {
                    grad[gw.length + c] = gb[c];
                }
                return data + 0.5 * lambda * reg;
            }
        }
    }
}
