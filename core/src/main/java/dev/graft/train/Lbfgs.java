package dev.graft.train;

/**
 * Limited-memory BFGS (10 pairs) with a backtracking Armijo line search, for the probe's smooth, convex objective.
 * Stops at a gradient norm below 1e-6, at a relative change of the objective below 1e-7 (the float32 objective's
 * rounding), or after {@code maxIter} iterations.
 */
final class Lbfgs {
    private Lbfgs() {
    }

    /** The objective: its value at {@code x}, with its gradient written into {@code grad}. */
    interface Objective {
        double eval(double[] x, double[] grad);
    }

    /** Where it stopped, the objective there, and the iterations taken. */
    record Result(double[] x, double value, int iterations) {
    }

    static Result minimize(Objective f, double[] x0, int maxIter) {
        double[] x = x0;
        double[] g = new double[x.length];
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
            double[] xn = new double[x.length];
            double[] gn = new double[x.length];
            double fn;
            while (true) {
                for (int i = 0; i < x.length; i++) {
                    xn[i] = x[i] + step * d[i];
                }
                fn = f.eval(xn, gn);
                if (fn <= fx + 1e-4 * step * slope || step < 1e-10) {
                    break;
                }
                step *= 0.5;
            }
            double[] sk = new double[x.length];
            double[] yk = new double[x.length];
            for (int i = 0; i < x.length; i++) {
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
            boolean converged = Math.abs(fx - fn) < 1e-7 * Math.max(1, Math.abs(fx)); // float32 objective: below this is rounding
            x = xn;
            g = gn;
            fx = fn;
            if (converged) {
                break;
            }
        }
        return new Result(x, fx, it);
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
