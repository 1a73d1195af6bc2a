package dev.graft.check;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Images that belong to no class: placeholders ("image not available" cards, avatars), blank, or corrupt-looking
 * images. Two rules. Blank: the pixels the model sees hardly vary (standard deviation below {@link #BLANK_SPREAD} of
 * the [0, 1] range: one colour, or a 1x1 image scaled up). Far from every class: an image's typicality is its
 * highest cosine similarity to a class centre (the mean of the unit features of that class's training images, itself
 * left out of its own class's centre); an image whose typicality lies below the lower fence of all images'
 * typicality (first quartile minus {@link #FENCE} interquartile ranges) and below {@link #MAX_TYPICALITY} is far
 * from every class. The features are not centred here: pooled ReLU features of a text card or a flat image are
 * weak everywhere, so their direction is far from every class's, while centring turns "less of everything" into a
 * direction of its own that some class centre can be near. Thresholds calibrated in docs/DATA_CHECK.md.
 */
public final class Outliers {
    /** Pixel standard deviation (on [0, 1]) below which an image is blank; photos and sketches lie above 0.05. */
    public static final double BLANK_SPREAD = 0.02;
    /** How many interquartile ranges below the first quartile of typicality an outlier lies. */
    public static final double FENCE = 2.0;
    /** Never an outlier above this typicality, however tight the data (a set of near-identical images). */
    public static final double MAX_TYPICALITY = 0.80;

    private Outliers() {
    }

    /** An outlier: its typicality (NaN without features), the class it is nearest to (-1: unknown), and why. */
    public record Outlier(int image, double typicality, int nearestClass, boolean blank) {
    }

    /** Every image's typicality and nearest class, the fence, and the outliers, least typical first. */
    public record Found(double[] typicality, int[] nearestClass, double fence, List<Outlier> outliers) {
    }

    public static Found find(CheckInput in) {
        int n = in.size();
        int k = in.classes().size();
        double[] typ = new double[n];
        int[] nearest = new int[n];
        Arrays.fill(typ, Double.NaN);
        Arrays.fill(nearest, -1);
        double fence = Double.NaN;
        if (in.features() != null && n > 0) {
            int d = in.dim();
            float[] v = Vectors.unit(in.features(), n, d);
            double[][] sum = new double[k][d];
            int[] count = new int[k];
            for (int i = 0; i < n; i++) {
                CheckInput.Image img = in.images().get(i);
                if (img.split().trains()) {
                    count[img.label()]++;
                    for (int j = 0; j < d; j++) {
                        sum[img.label()][j] += v[i * d + j];
                    }
                }
            }
            float[] centre = new float[d];
            for (int i = 0; i < n; i++) {
                CheckInput.Image img = in.images().get(i);
                double best = Double.NEGATIVE_INFINITY;
                int arg = -1;
                for (int c = 0; c < k; c++) {
                    boolean own = img.split().trains() && img.label() == c;
                    int m = count[c] - (own ? 1 : 0);
                    if (m <= 0) {
                        continue;
                    }
                    double norm = 0;
                    for (int j = 0; j < d; j++) {
                        double s = sum[c][j] - (own ? v[i * d + j] : 0);
                        centre[j] = (float) s;
                        norm += s * s;
                    }
                    double cos = norm > 0 ? Vectors.dot(v, i, centre, d) / Math.sqrt(norm) : 0;
                    if (cos > best) {
                        best = cos;
                        arg = c;
                    }
                }
                typ[i] = arg < 0 ? Double.NaN : best;
                nearest[i] = arg;
            }
            double[] sorted = Arrays.stream(typ).filter(t -> !Double.isNaN(t)).sorted().toArray();
            if (sorted.length >= 4) {
                double q1 = quantile(sorted, 0.25);
                double q3 = quantile(sorted, 0.75);
                fence = Math.min(MAX_TYPICALITY, q1 - FENCE * (q3 - q1));
            }
        }
        List<Outlier> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            boolean blank = in.spread(i) < BLANK_SPREAD;
            boolean far = !Double.isNaN(fence) && typ[i] < fence;
            if (blank || far) {
                out.add(new Outlier(i, typ[i], nearest[i], blank));
            }
        }
        out.sort(Comparator.comparing((Outlier o) -> !o.blank()).thenComparingDouble(o -> Double.isNaN(o.typicality()) ? -2 : o.typicality()));
        return new Found(typ, nearest, fence, out);
    }

    /** Linear interpolation between order statistics (numpy's default). */
    static double quantile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
