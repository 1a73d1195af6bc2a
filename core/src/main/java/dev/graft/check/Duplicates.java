package dev.graft.check;

import dev.graft.data.SameImages;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Pairs of images that are the same picture: exact (the same file through a link, or the same bytes: real path and
 * SHA-256, {@link SameImages}) and near (re-encoded, resized, cropped, flipped or brightened copies). A near copy
 * is a pair whose centred source-model features have a cosine of at least the threshold (0.90), or whose thumbnails
 * match pixel by pixel ({@link Thumbnails#match}: at least {@link #PIXELS_WITH_FEATURES} with a cosine of at least
 * {@link #PIXEL_FEATURE_GATE}, or {@link #PIXELS_ALONE} alone); the pixel check runs on each image's closest
 * candidates by features and by coarse pixels. Thresholds calibrated on real data in docs/DATA_CHECK.md.
 * Each pair has a scope: both training images, both test images, or one of each, the leak that inflates test accuracy.
 */
public final class Duplicates {
    /** Closest images per image, by features and by coarse pixels, whose thumbnails are matched in detail. */
    static final int CANDIDATES = 3;
    /** Centred feature cosine a pixel-confirmed pair needs (and the least a candidate by features has). */
    public static final double PIXEL_FEATURE_GATE = 0.70;
    /** Coarse (16x16, zero shift) thumbnail correlation the least a candidate by pixels has. */
    static final double COARSE_GATE = 0.85;
    /** Thumbnail match that, with features at the gate, makes a near copy (a crop or a rescale: both agree). */
    public static final double PIXELS_WITH_FEATURES = 0.93;
    /** Thumbnail match that alone makes a near copy (the features moved, as for a line drawing resized). */
    public static final double PIXELS_ALONE = 0.97;

    private Duplicates() {
    }

    /** The k best (index, score) offered, kept in a small array. */
    static final class Top {
        private final int[] idx;
        private final float[] score;
        private int size;

        Top(int k) {
            idx = new int[k];
            score = new float[k];
        }

        void offer(int i, float s) {
            if (size < idx.length) {
                idx[size] = i;
                score[size++] = s;
                return;
            }
            int worst = 0;
            for (int k = 1; k < size; k++) {
                if (score[k] < score[worst]) {
                    worst = k;
                }
            }
            if (s > score[worst]) {
                idx[worst] = i;
                score[worst] = s;
            }
        }

        int[] items() {
            return java.util.Arrays.copyOf(idx, size);
        }
    }

    public enum Kind {
        SAME_FILE, SAME_BYTES, NEAR;

        public String label() {
            return switch (this) {
                case SAME_FILE -> "same file";
                case SAME_BYTES -> "same bytes";
                case NEAR -> "near copy";
            };
        }
    }

    public enum Scope {
        TRAIN, TEST, ACROSS;

        public String label() {
            return switch (this) {
                case TRAIN -> "within training";
                case TEST -> "within test";
                case ACROSS -> "train / test";
            };
        }
    }

    /**
     * Two images (first < second), how they match, where they are, their feature cosine (NaN without features) and,
     * where the pixels confirmed a near copy, the thumbnails' best correlation (NaN otherwise).
     */
    public record Pair(int first, int second, Kind kind, Scope scope, double similarity, double pixels) {
    }

    /**
     * The pairs (exact first, then near by similarity, highest first; at most {@code maxPairs}, with how many more
     * there were), and each image's nearest other image and its cosine (NaN without features).
     */
    public record Found(List<Pair> pairs, int notListed, int[] nearest, float[] nearestSimilarity) {
    }

    static Scope scope(CheckInput in, int a, int b) {
        boolean ta = in.images().get(a).split().trains();
        boolean tb = in.images().get(b).split().trains();
        return ta && tb ? Scope.TRAIN : !ta && !tb ? Scope.TEST : Scope.ACROSS;
    }

    public static Found find(CheckInput in, double threshold, int maxPairs) {
        int n = in.size();
        List<Path> files = in.images().stream().map(CheckInput.Image::file).toList();
        List<Pair> exact = new ArrayList<>();
        // copies of one another are listed as exact pairs only
        int[] group = new int[n];
        java.util.Arrays.fill(group, -1);
        int groups = 0;
        for (List<Integer> g : SameImages.groups(files)) {
            // each copy pairs with one anchor, a training image where the group has one: n - 1 pairs for n copies, and
            // every test copy of a training image is a train/test pair
            int anchor = g.stream().filter(i -> in.images().get(i).split().trains()).findFirst().orElse(g.get(0));
            for (int i : g) {
                if (i != anchor) {
                    Kind kind = SameImages.sameFile(files.get(anchor), files.get(i)) ? Kind.SAME_FILE : Kind.SAME_BYTES;
                    exact.add(new Pair(Math.min(anchor, i), Math.max(anchor, i), kind, scope(in, anchor, i), Double.NaN, Double.NaN));
                }
            }
            for (int i : g) {
                group[i] = groups;
            }
            groups++;
        }
        int[] nearest = new int[n];
        float[] nearestSim = new float[n];
        java.util.Arrays.fill(nearest, -1);
        java.util.Arrays.fill(nearestSim, Float.NaN);
        List<Pair> near = new ArrayList<>();
        if (in.features() != null && n > 1) {
            int d = in.dim();
            float[] v = Vectors.centredUnit(in.features(), n, d);
            boolean pixels = IntStream.range(0, n).allMatch(i -> in.thumbnail(i) != null);
            float[][] coarse = new float[n][];
            float[][] coarseMirrored = new float[n][];
            if (pixels) {
                for (int i = 0; i < n; i++) {
                    coarse[i] = Thumbnails.coarse(in.thumbnail(i));
                    coarseMirrored[i] = Thumbnails.coarse(Thumbnails.mirrored(in.thumbnail(i), CheckInput.THUMB));
                }
            }
            int h = CheckInput.THUMB * CheckInput.THUMB / 4;
            // each row against every other (rows are independent, so in parallel): pairs by features alone, each image's
            // nearest neighbour, and the candidates for the pixel check (its closest by features and by coarse pixels)
            List<List<Pair>> perRow = new ArrayList<>(n);
            List<int[]> candidates = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                perRow.add(null);
                candidates.add(null);
            }
            IntStream.range(0, n).parallel().forEach(i -> {
                List<Pair> mine = null;
                float best = Float.NEGATIVE_INFINITY;
                int arg = -1;
                Top byFeatures = new Top(CANDIDATES);
                Top byPixels = new Top(CANDIDATES);
                for (int j = 0; j < n; j++) {
                    if (j == i) {
                        continue;
                    }
                    float s = Vectors.dot(v, i, j, d);
                    if (s > best) {
                        best = s;
                        arg = j;
                    }
                    if (group[i] >= 0 && group[i] == group[j]) {
                        continue;
                    }
                    if (s >= threshold) {
                        if (j > i) {
                            if (mine == null) {
                                mine = new ArrayList<>();
                            }
                            mine.add(new Pair(i, j, Kind.NEAR, scope(in, i, j), s, Double.NaN));
                        }
                    } else if (pixels) {
                        if (s >= PIXEL_FEATURE_GATE) {
                            byFeatures.offer(j, s);
                        }
                        if (coarse[i] != null && coarse[j] != null) {
                            float z = Math.max(Vectors.dot(coarse[i], 0, coarse[j], h), Vectors.dot(coarse[i], 0, coarseMirrored[j], h));
                            if (z >= COARSE_GATE) {
                                byPixels.offer(j, z);
                            }
                        }
                    }
                }
                nearest[i] = arg;
                nearestSim[i] = best;
                perRow.set(i, mine);
                candidates.set(i, IntStream.concat(IntStream.of(byFeatures.items()), IntStream.of(byPixels.items())).toArray());
            });
            perRow.stream().filter(l -> l != null).forEach(near::addAll);
            if (pixels) {
                java.util.Set<Long> proposed = new java.util.TreeSet<>();
                for (int i = 0; i < n; i++) {
                    for (int j : candidates.get(i)) {
                        proposed.add(((long) Math.min(i, j) << 32) | Math.max(i, j));
                    }
                }
                near.addAll(proposed.parallelStream().map(key -> {
                    int a = (int) (key >>> 32);
                    int b = (int) (long) key;
                    double cos = Vectors.dot(v, a, b, d);
                    double match = Thumbnails.match(in.thumbnail(a), in.thumbnail(b));
                    return match >= PIXELS_ALONE || match >= PIXELS_WITH_FEATURES && cos >= PIXEL_FEATURE_GATE
                            ? new Pair(a, b, Kind.NEAR, scope(in, a, b), cos, match) : null;
                }).filter(p -> p != null).toList());
            }
            for (int e = 0; e < exact.size(); e++) {
                Pair p = exact.get(e);
                exact.set(e, new Pair(p.first(), p.second(), p.kind(), p.scope(), Vectors.dot(v, p.first(), p.second(), d), Double.NaN));
            }
        }
        // leaks first, then within-training pairs, then within-test; each exact before near, near by similarity
        Comparator<Pair> order = Comparator.comparingInt((Pair p) -> p.scope() == Scope.ACROSS ? 0 : p.scope() == Scope.TRAIN ? 1 : 2)
                .thenComparingInt(p -> p.kind() == Kind.NEAR ? 1 : 0)
                .thenComparing(Comparator.comparingDouble(Pair::similarity).reversed())
                .thenComparingInt(Pair::first).thenComparingInt(Pair::second);
        List<Pair> all = new ArrayList<>(exact);
        all.addAll(near);
        all.sort(order);
        int notListed = Math.max(0, all.size() - maxPairs);
        return new Found(List.copyOf(all.subList(0, Math.min(maxPairs, all.size()))), notListed, nearest, nearestSim);
    }

}
