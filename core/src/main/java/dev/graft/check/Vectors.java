package dev.graft.check;

/**
 * Feature vectors for comparing images: centred on the mean of all images, then scaled to unit length, so that a
 * dot product is the cosine similarity of what sets two images apart from the average image. Pooled ReLU features
 * are all positive; uncentred, any two photos have a cosine well above 0.5 and near-copies stand out less.
 */
final class Vectors {
    private Vectors() {
    }

    /** Each row scaled to unit length, not centred (what the outlier rule compares: see {@link Outliers}). */
    static float[] unit(float[] x, int n, int d) {
        float[] out = new float[n * d];
        for (int i = 0; i < n; i++) {
            double norm = 0;
            for (int j = 0; j < d; j++) {
                norm += x[i * d + j] * (double) x[i * d + j];
            }
            float inv = norm > 0 ? (float) (1 / Math.sqrt(norm)) : 0f;
            for (int j = 0; j < d; j++) {
                out[i * d + j] = x[i * d + j] * inv;
            }
        }
        return out;
    }

    static float[] centredUnit(float[] x, int n, int d) {
        double[] mean = new double[d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                mean[j] += x[i * d + j];
            }
        }
        for (int j = 0; j < d; j++) {
            mean[j] /= Math.max(1, n);
        }
        float[] out = new float[n * d];
        for (int i = 0; i < n; i++) {
            double norm = 0;
            for (int j = 0; j < d; j++) {
                double v = x[i * d + j] - mean[j];
                out[i * d + j] = (float) v;
                norm += v * v;
            }
            float inv = norm > 0 ? (float) (1 / Math.sqrt(norm)) : 0f;
            for (int j = 0; j < d; j++) {
                out[i * d + j] *= inv;
            }
        }
        return out;
    }

    /** Dot product of rows a and b of row-major n x d vectors, four partial sums for the CPU's pipelines. */
    static float dot(float[] v, int a, int b, int d) {
        int oa = a * d;
        int ob = b * d;
        float s0 = 0;
        float s1 = 0;
        float s2 = 0;
        float s3 = 0;
        int j = 0;
        for (; j + 3 < d; j += 4) {
            s0 += v[oa + j] * v[ob + j];
            s1 += v[oa + j + 1] * v[ob + j + 1];
            s2 += v[oa + j + 2] * v[ob + j + 2];
            s3 += v[oa + j + 3] * v[ob + j + 3];
        }
        for (; j < d; j++) {
            s0 += v[oa + j] * v[ob + j];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /** Dot product of row a of {@code v} with vector {@code u} (length d). */
    static float dot(float[] v, int a, float[] u, int d) {
        int oa = a * d;
        float s0 = 0;
        float s1 = 0;
        int j = 0;
        for (; j + 1 < d; j += 2) {
            s0 += v[oa + j] * u[j];
            s1 += v[oa + j + 1] * u[j + 1];
        }
        for (; j < d; j++) {
            s0 += v[oa + j] * u[j];
        }
        return s0 + s1;
    }
}
