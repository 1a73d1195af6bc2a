package dev.graft.check;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What the data check looks at, one entry per image: its file, the name to show, its given label, its split; the
 * source model's pooled features; the out-of-fold class probabilities of a probe that never saw the image's label
 * (training images only); the spread of its pixel values (NaN where unknown) and a grey thumbnail of them
 * ({@link #THUMB} x {@link #THUMB}, where known). Features and probabilities are optional: without them only exact
 * duplicates are found.
 */
public final class CheckInput {
    /** Side of the grey thumbnails (values on [0, 1], row-major). */
    public static final int THUMB = 32;

    /** Which set an image belongs to; validation images are training images for the check. */
    public enum Split {
        TRAIN, VALID, TEST;

        public boolean trains() {
            return this != TEST;
        }

        public String csv() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** One image. */
    public record Image(Path file, String name, int label, Split split) {
    }

    private final List<String> classes;
    private final List<Image> images;
    private final float[] features;
    private final int dim;
    private final double[][] probabilities;
    private final float[] spread;
    private final float[][] thumbnails;

    private CheckInput(List<String> classes, List<Image> images, float[] features, int dim, double[][] probabilities, float[] spread,
                       float[][] thumbnails) {
        this.classes = List.copyOf(classes);
        this.images = List.copyOf(images);
        this.features = features;
        this.dim = dim;
        this.probabilities = probabilities;
        this.spread = spread;
        this.thumbnails = thumbnails;
    }

    /** Image i's grey thumbnail, or null when unknown. */
    public float[] thumbnail(int i) {
        return thumbnails[i];
    }

    public List<String> classes() {
        return classes;
    }

    public List<Image> images() {
        return images;
    }

    public int size() {
        return images.size();
    }

    /** Row-major n x dim features, or null when the check runs without them. */
    public float[] features() {
        return features;
    }

    public int dim() {
        return dim;
    }

    /** Out-of-fold probabilities of image i (null for test images, and for all without a probe). */
    public double[] probabilities(int i) {
        return probabilities == null ? null : probabilities[i];
    }

    public boolean hasProbabilities() {
        return probabilities != null && Arrays.stream(probabilities).anyMatch(p -> p != null);
    }

    /** Standard deviation of the image's pixel values in [0, 1] as the model saw it (NaN: unknown). */
    public float spread(int i) {
        return spread == null ? Float.NaN : spread[i];
    }

    public static Builder builder(List<String> classes, int dim) {
        return new Builder(classes, dim);
    }

    /** Adds images one by one; features, probabilities and spread may be null per image or for all. */
    public static final class Builder {
        private final List<String> classes;
        private final int dim;
        private final List<Image> images = new ArrayList<>();
        private final List<float[]> features = new ArrayList<>();
        private final List<double[]> probabilities = new ArrayList<>();
        private final List<Float> spread = new ArrayList<>();
        private final List<float[]> thumbnails = new ArrayList<>();

        Builder(List<String> classes, int dim) {
            this.classes = classes;
            this.dim = dim;
        }

        public Builder add(Image image, float[] feature, double[] probs, float pixelSpread) {
            return add(image, feature, probs, pixelSpread, null);
        }

        public Builder add(Image image, float[] feature, double[] probs, float pixelSpread, float[] thumbnail) {
            if (thumbnail != null && thumbnail.length != THUMB * THUMB) {
                throw new IllegalArgumentException(image.file() + ": a thumbnail of " + thumbnail.length + " values, expected " + THUMB * THUMB);
            }
            if (image.label() < 0 || image.label() >= classes.size()) {
                throw new IllegalArgumentException(image.file() + ": label " + image.label() + " is not one of " + classes.size() + " classes");
            }
            if (feature != null && feature.length != dim) {
                throw new IllegalArgumentException(image.file() + ": " + feature.length + " features, expected " + dim);
            }
            if (probs != null && probs.length != classes.size()) {
                throw new IllegalArgumentException(image.file() + ": " + probs.length + " probabilities, expected " + classes.size());
            }
            images.add(image);
            features.add(feature);
            probabilities.add(probs);
            spread.add(pixelSpread);
            thumbnails.add(thumbnail);
            return this;
        }

        /**
         * The input. Features are kept only when every image has them (an image without features, a bad file for
         * instance, is not an image the check can compare).
         */
        public CheckInput build() {
            int n = images.size();
            boolean allFeatures = n > 0 && dim > 0 && features.stream().allMatch(f -> f != null);
            float[] x = null;
            if (allFeatures) {
                x = new float[n * dim];
                for (int i = 0; i < n; i++) {
                    System.arraycopy(features.get(i), 0, x, i * dim, dim);
                }
            }
            boolean anyProbs = probabilities.stream().anyMatch(p -> p != null);
            float[] s = new float[n];
            for (int i = 0; i < n; i++) {
                s[i] = spread.get(i) == null ? Float.NaN : spread.get(i);
            }
            return new CheckInput(classes, images, x, allFeatures ? dim : 0, anyProbs ? probabilities.toArray(new double[0][]) : null, s,
                    thumbnails.toArray(new float[0][]));
        }
    }
}
