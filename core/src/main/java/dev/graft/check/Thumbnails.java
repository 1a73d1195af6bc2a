package dev.graft.check;

/**
 * Pixel-level confirmation of near copies on the grey 32x32 thumbnails of what the model saw. {@link #match} is the
 * best normalised cross-correlation of one thumbnail with windows of the other keeping 100%, 90% or 80% of its side
 * at any position (half-pixel steps), mirrored or not, in both directions: about 1 for a re-encoded, resized,
 * brightened, flipped or cropped copy; lower for another photo of a similar scene. Brightness and contrast do not
 * change a correlation.
 */
final class Thumbnails {
    static final int T = CheckInput.THUMB;
    static final double[] SCALES = {1.0, 0.9, 0.8};

    private Thumbnails() {
    }

    /** Zero mean, unit length; null for a flat thumbnail (nothing to correlate). */
    static float[] standardized(float[] t) {
        double mean = 0;
        for (float v : t) {
            mean += v;
        }
        mean /= t.length;
        double norm = 0;
        float[] out = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            out[i] = (float) (t[i] - mean);
            norm += out[i] * (double) out[i];
        }
        if (norm < 1e-12) {
            return null;
        }
        float inv = (float) (1 / Math.sqrt(norm));
        for (int i = 0; i < out.length; i++) {
            out[i] *= inv;
        }
        return out;
    }

    static float[] mirrored(float[] t, int side) {
        float[] out = new float[t.length];
        for (int y = 0; y < side; y++) {
            for (int x = 0; x < side; x++) {
                out[y * side + x] = t[y * side + side - 1 - x];
            }
        }
        return out;
    }

    /** 16x16 block means of a 32x32 thumbnail, standardized: the cheap all-pairs comparison that proposes candidates. */
    static float[] coarse(float[] t) {
        int h = T / 2;
        float[] out = new float[h * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < h; x++) {
                out[y * h + x] = (t[2 * y * T + 2 * x] + t[2 * y * T + 2 * x + 1] + t[(2 * y + 1) * T + 2 * x] + t[(2 * y + 1) * T + 2 * x + 1]) / 4;
            }
        }
        return standardized(out);
    }

    /** The best correlation of a and b over windows, mirroring and both directions (-1 when either is flat). */
    static double match(float[] a, float[] b) {
        double best = -1;
        float[] win = new float[T * T];
        for (int dir = 0; dir < 2; dir++) {
            float[] p = dir == 0 ? a : b;
            float[] q = standardized(dir == 0 ? b : a);
            if (q == null) {
                return -1;
            }
            for (int flip = 0; flip < 2; flip++) {
                float[] src = flip == 0 ? p : mirrored(p, T);
                for (double s : SCALES) {
                    double w = T * s;
                    double room = T - w;
                    double lo = room > 0 ? -1 : 0;
                    double hi = room > 0 ? room + 1 : 0;
                    for (double y0 = lo; y0 <= hi + 1e-9; y0 += 0.5) {
                        for (double x0 = lo; x0 <= hi + 1e-9; x0 += 0.5) {
                            sample(src, x0, y0, w, win);
                            double c = correlation(win, q);
                            if (c > best) {
                                best = c;
                                if (best > 0.995) {
                                    return best;
                                }
                            }
                        }
                    }
                }
            }
        }
        return best;
    }

    /** The w x w window at (x0, y0) of a T x T thumbnail, resampled bilinearly to T x T. */
    static void sample(float[] src, double x0, double y0, double w, float[] out) {
        double step = w / T;
        for (int k = 0; k < T; k++) {
            double v = Math.min(T - 1, Math.max(0, y0 + (k + 0.5) * step - 0.5));
            int r0 = (int) v;
            int r1 = Math.min(T - 1, r0 + 1);
            double fr = v - r0;
            for (int l = 0; l < T; l++) {
                double u = Math.min(T - 1, Math.max(0, x0 + (l + 0.5) * step - 0.5));
                int c0 = (int) u;
                int c1 = Math.min(T - 1, c0 + 1);
                double fc = u - c0;
                double top = src[r0 * T + c0] * (1 - fc) + src[r0 * T + c1] * fc;
                double bottom = src[r1 * T + c0] * (1 - fc) + src[r1 * T + c1] * fc;
                out[k * T + l] = (float) (top * (1 - fr) + bottom * fr);
            }
        }
    }

    /** Correlation of a window (any scale) with a standardized thumbnail. */
    static double correlation(float[] win, float[] q) {
        double mean = 0;
        for (float v : win) {
            mean += v;
        }
        mean /= win.length;
        double dot = 0;
        double norm = 0;
        for (int i = 0; i < win.length; i++) {
            double v = win[i] - mean;
            dot += v * q[i];
            norm += v * v;
        }
        return norm < 1e-12 ? -1 : dot / Math.sqrt(norm);
    }
}
