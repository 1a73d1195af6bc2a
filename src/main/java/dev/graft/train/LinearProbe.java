package dev.graft.train;

import java.util.Arrays;

/**
 * Multinomial logistic regression on cached body features, the strong cheap baseline for small data: minimises
 * mean cross-entropy + (lambda / 2) |W|^2 with L-BFGS, in plain Java (the problem is a few thousand numbers).
 * With lambda = 1 / n it is scikit-learn's LogisticRegression(C=1).
 */
public final class LinearProbe {
    private final int classes;
    private final int dim;

    public LinearProbe(int classes, int dim) {
        this.classes = classes;
        this.dim = dim;
    }

    /** Fitted weights: W row-major (classes x dim) then bias (classes). */
    public record Fit(float[] weight, float[] bias, double lambda, int iterations, double loss) {
    }

    public Fit fit(FeatureSet train, double lambda, int maxIter) {
        int p = classes * dim + classes;
        double[] x = new double[p];
        Objective f = new Objective(train, lambda);
        double[] g = new double[p];
        double fx = f.eval(x, g);
        int m = 10;
        double[][] s = new double[m][];
        double[][] y = new double[m][];
        double[] rho = new double[m];
        int k = 0;
        int it;
        for (it = 0; it < maxIter; it++) {
            double gnorm = Math.sqrt(dot(g, g));
            if (gnorm < 1e-6) {
                break;
            }
            // two-loop recursion for the search direction d = -H g
            double[] q = g.clone();
            int hist = Math.min(k, m);
            double[] alpha = new double[m];
            for (int i = 0; i < hist; i++) {
                int j = Math.floorMod(k - 1 - i, m);
                alpha[j] = rho[j] * dot(s[j], q);
                axpy(-alpha[j], y[j], q);
            }
            double gamma = hist > 0 ? dot(s[Math.floorMod(k - 1, m)], y[Math.floorMod(k - 1, m)])
                    / dot(y[Math.floorMod(k - 1, m)], y[Math.floorMod(k - 1, m)]) : 1.0 / Math.max(gnorm, 1);
            for (int i = 0; i < q.length; i++) {
                q[i] *= gamma;
            }
            for (int i = hist - 1; i >= 0; i--) {
                int j = Math.floorMod(k - 1 - i, m);
                double b = rho[j] * dot(y[j], q);
                axpy(alpha[j] - b, s[j], q);
            }
            double[] d = q;
            for (int i = 0; i < d.length; i++) {
                d[i] = -d[i];
            }
            double slope = dot(g, d);
            if (slope >= 0) {
                d = g.clone();
                for (int i = 0; i < d.length; i++) {
                    d[i] = -d[i];
                }
                slope = dot(g, d);
                k = 0;
            }
            double step = 1;
            double[] xn = new double[p];
            double[] gn = new double[p];
            double fn;
            while (true) {
                for (int i = 0; i < p; i++) {
                    xn[i] = x[i] + step * d[i];
                }
                fn = f.eval(xn, gn);
                if (fn <= fx + 1e-4 * step * slope || step < 1e-10) {
                    break;
                }
                step *= 0.5;
            }
            double[] sk = new double[p];
            double[] yk = new double[p];
            for (int i = 0; i < p; i++) {
                sk[i] = xn[i] - x[i];
                yk[i] = gn[i] - g[i];
            }
            double sy = dot(sk, yk);
            if (sy > 1e-12) {
                int j = k % m;
                s[j] = sk;
                y[j] = yk;
                rho[j] = 1 / sy;
                k++;
            }
            boolean converged = Math.abs(fx - fn) < 1e-9 * Math.max(1, Math.abs(fx));
            x = xn;
            g = gn;
            fx = fn;
            if (converged) {
                break;
            }
        }
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

    /** Accuracy of fitted weights on a feature set. */
    public double accuracy(Fit fit, FeatureSet fs) {
        int correct = 0;
        for (int n = 0; n < fs.size(); n++) {
            int best = 0;
            double bestV = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) {
                double v = fit.bias()[c];
                for (int j = 0; j < dim; j++) {
                    v += fit.weight()[c * dim + j] * fs.features()[n * dim + j];
                }
                if (v > bestV) {
                    bestV = v;
                    best = c;
                }
            }
            if (best == fs.labels()[n]) {
                correct++;
            }
        }
        return fs.size() == 0 ? Double.NaN : (double) correct / fs.size();
    }

    private final class Objective {
        final FeatureSet data;
        final double lambda;

        Objective(FeatureSet data, double lambda) {
            this.data = data;
            this.lambda = lambda;
        }

        double eval(double[] x, double[] grad) {
            Arrays.fill(grad, 0);
            int n = data.size();
            float[] f = data.features();
            double loss = 0;
            double[] z = new double[classes];
            for (int i = 0; i < n; i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < classes; c++) {
                    double v = x[classes * dim + c];
                    int wo = c * dim;
                    int fo = i * dim;
                    for (int j = 0; j < dim; j++) {
                        v += x[wo + j] * f[fo + j];
                    }
                    z[c] = v;
                    max = Math.max(max, v);
                }
                double sum = 0;
                for (int c = 0; c < classes; c++) {
                    z[c] = Math.exp(z[c] - max);
                    sum += z[c];
                }
                int label = data.labels()[i];
                loss += -Math.log(z[label] / sum);
                for (int c = 0; c < classes; c++) {
                    double d = z[c] / sum - (c == label ? 1 : 0);
                    int wo = c * dim;
                    int fo = i * dim;
                    for (int j = 0; j < dim; j++) {
                        grad[wo + j] += d * f[fo + j];
                    }
                    grad[classes * dim + c] += d;
                }
            }
            double reg = 0;
            for (int i = 0; i < grad.length; i++) {
                grad[i] /= n;
                if (i < classes * dim) {
                    grad[i] += lambda * x[i];
                    reg += x[i] * x[i];
                }
            }
            return loss / n + 0.5 * lambda * reg;
        }
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    private static void axpy(double a, double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) {
            y[i] += a * x[i];
        }
    }
}
