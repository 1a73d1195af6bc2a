package dev.graft.check;

import dev.graft.Images;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each detector on small cases where the answer is known by construction. */
class DataCheckTest {
    static final List<String> CLASSES = List.of("cat", "dog", "fox");

    @TempDir
    Path dir;

    /** Confident learning: the per-class threshold is the class's mean self-confidence; the swapped image is flagged with its true class. */
    @Test
    void swappedLabelIsFlaggedWithItsClass() {
        CheckInput.Builder b = CheckInput.builder(CLASSES, 0);
        Random r = new Random(3);
        for (int i = 0; i < 30; i++) {
            int y = i % 3;
            double[] p = new double[3];
            p[y] = 0.8 + 0.15 * r.nextDouble();
            p[(y + 1) % 3] = (1 - p[y]) * 0.6;
            p[(y + 2) % 3] = 1 - p[y] - p[(y + 1) % 3];
            b.add(image(i, y, CheckInput.Split.TRAIN), null, p, Float.NaN);
        }
        // labelled cat, the probe says dog
        b.add(image(30, 0, CheckInput.Split.TRAIN), null, new double[] {0.05, 0.9, 0.05}, Float.NaN);
        // labelled dog, unsure between everything: below every class's threshold, so no confident suggestion
        b.add(image(31, 1, CheckInput.Split.TRAIN), null, new double[] {0.34, 0.33, 0.33}, Float.NaN);
        // labelled fox, fairly sure it is cat but less sure than cats are on average: not flagged
        b.add(image(32, 2, CheckInput.Split.TRAIN), null, new double[] {0.6, 0.1, 0.3}, Float.NaN);
        // a test image has no out-of-fold probabilities and is never a label issue
        b.add(image(33, 0, CheckInput.Split.TEST), null, null, Float.NaN);
        CheckInput in = b.build();
        LabelIssues.Found f = LabelIssues.find(in);
        assertEquals(1, f.issues().size(), f.issues().toString());
        LabelIssues.Issue i = f.issues().get(0);
        assertEquals(30, i.image());
        assertEquals(0, i.given());
        assertEquals(1, i.suggested());
        assertEquals(0.9, i.confidence(), 1e-12);
        assertEquals(0.05, i.selfConfidence(), 1e-12);
        double catMean = 0;
        int cats = 0;
        for (int k = 0; k < in.size(); k++) {
            if (in.probabilities(k) != null && in.images().get(k).label() == 0) {
                catMean += in.probabilities(k)[0];
                cats++;
            }
        }
        assertEquals(catMean / cats, f.thresholds()[0], 1e-12);
        assertEquals(1, f.confidentJoint()[0][1]);
        assertEquals(33, f.scored());
        // the suggestions name it, with the class the probe suggests
        DataCheck.Finding finding = DataCheck.findings(DataCheck.run(in)).get(0);
        assertEquals(30, finding.image());
        assertEquals("dog", finding.suggested());
    }

    /** Byte copies and links across the splits are exact pairs; a near copy by features is a near pair; others are not paired. */
    @Test
    void exactAndNearCopiesAcrossSplits() throws Exception {
        int d = 16;
        Random r = new Random(5);
        List<float[]> feats = new ArrayList<>();
        List<CheckInput.Image> imgs = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            Path f = Images.write(dir.resolve("train/" + CLASSES.get(i % 3) + "/" + i + ".png"), Images.pattern(20, 20, i), "png");
            imgs.add(new CheckInput.Image(f, "train/" + i, i % 3, CheckInput.Split.TRAIN));
            feats.add(gaussian(r, d));
        }
        // test 8: a byte copy of train 0; test 9: a link to train 1; test 10: new image, features a near copy of train 2's
        Path copy = Files.copy(imgs.get(0).file(), Files.createDirectories(dir.resolve("test/cat")).resolve("copy.png"));
        imgs.add(new CheckInput.Image(copy, "test/copy", 0, CheckInput.Split.TEST));
        feats.add(gaussian(r, d));
        Path link = Files.createSymbolicLink(Files.createDirectories(dir.resolve("test/dog")).resolve("link.png"), imgs.get(1).file().toAbsolutePath());
        imgs.add(new CheckInput.Image(link, "test/link", 1, CheckInput.Split.TEST));
        feats.add(gaussian(r, d));
        Path near = Images.write(dir.resolve("test/fox/near.png"), Images.pattern(20, 20, 100), "png");
        imgs.add(new CheckInput.Image(near, "test/near", 2, CheckInput.Split.TEST));
        float[] nf = feats.get(2).clone();
        for (int j = 0; j < d; j++) {
            nf[j] += 0.05f * (float) r.nextGaussian();
        }
        feats.add(nf);
        CheckInput.Builder b = CheckInput.builder(CLASSES, d);
        for (int i = 0; i < imgs.size(); i++) {
            b.add(imgs.get(i), feats.get(i), null, Float.NaN);
        }
        Duplicates.Found f = Duplicates.find(b.build(), DataCheck.NEAR_DUPLICATE, 100);
        assertEquals(3, f.pairs().size(), f.pairs().toString());
        assertTrue(f.pairs().contains(pair(f, 0, 8)) && pair(f, 0, 8).kind() == Duplicates.Kind.SAME_BYTES);
        assertEquals(Duplicates.Kind.SAME_FILE, pair(f, 1, 9).kind());
        Duplicates.Pair n = pair(f, 2, 10);
        assertEquals(Duplicates.Kind.NEAR, n.kind());
        assertTrue(n.similarity() > 0.95, "near copy cosine " + n.similarity());
        for (Duplicates.Pair p : f.pairs()) {
            assertEquals(Duplicates.Scope.ACROSS, p.scope());
        }
        assertEquals(2, f.nearest()[10]);
        // without features only the exact pairs remain
        CheckInput.Builder nb = CheckInput.builder(CLASSES, 0);
        imgs.forEach(i -> nb.add(i, null, null, Float.NaN));
        Duplicates.Found exact = Duplicates.find(nb.build(), DataCheck.NEAR_DUPLICATE, 100);
        assertEquals(2, exact.pairs().size(), exact.pairs().toString());
        // the leak is named on the test image's row
        CheckResult res = DataCheck.run(b.build());
        List<DataCheck.Finding> findings = DataCheck.findings(res);
        assertTrue(findings.stream().anyMatch(x -> x.image() == 10 && x.issues().contains("leak") && x.detail().contains("train/2")), findings.toString());
        assertTrue(findings.stream().noneMatch(x -> x.image() < 8), findings.toString());
    }

    /**
     * The pixel check: a mirrored copy whose features moved (as a resized line drawing's do) is a near pair by its
     * thumbnails alone; a shifted crop needs its features to agree; a different picture is not paired.
     */
    @Test
    void thumbnailsConfirmCopiesTheFeaturesMiss() {
        int d = 16;
        int t = CheckInput.THUMB;
        Random r = new Random(11);
        CheckInput.Builder b = CheckInput.builder(CLASSES, d);
        float[][] thumbs = new float[6][];
        for (int k = 0; k < 4; k++) {
            thumbs[k] = smooth(r, t);
        }
        // 4: image 0 mirrored; 5: a 90% window of image 1, scaled back up
        thumbs[4] = Thumbnails.mirrored(thumbs[0], t);
        thumbs[5] = new float[t * t];
        Thumbnails.sample(thumbs[1], 1.5, 2.0, 0.9 * t, thumbs[5]);
        float[][] feats = new float[6][];
        for (int k = 0; k < 6; k++) {
            feats[k] = gaussian(r, d);
        }
        // the crop's features agree with its source's (cosine ~0.8, under the features-alone threshold)
        for (int j = 0; j < d; j++) {
            feats[5][j] = feats[1][j] + 0.5f * (float) r.nextGaussian();
        }
        for (int k = 0; k < 6; k++) {
            b.add(image(k, k % 3, k < 4 ? CheckInput.Split.TRAIN : CheckInput.Split.TEST), feats[k], null, 0.2f, thumbs[k]);
        }
        CheckInput in = b.build();
        Duplicates.Found f = Duplicates.find(in, DataCheck.NEAR_DUPLICATE, 100);
        assertEquals(2, f.pairs().size(), f.pairs().toString());
        Duplicates.Pair mirrored = pair(f, 0, 4);
        assertTrue(mirrored.pixels() > 0.99 && mirrored.similarity() < Duplicates.PIXEL_FEATURE_GATE, mirrored.toString());
        Duplicates.Pair crop = pair(f, 1, 5);
        assertTrue(crop.pixels() >= Duplicates.PIXELS_WITH_FEATURES && crop.similarity() >= Duplicates.PIXEL_FEATURE_GATE, crop.toString());
        // the same crop with unrelated features is not a copy: pixels alone must be near perfect
        feats[5] = gaussian(r, d);
        CheckInput.Builder b2 = CheckInput.builder(CLASSES, d);
        for (int k = 0; k < 6; k++) {
            b2.add(image(k, k % 3, k < 4 ? CheckInput.Split.TRAIN : CheckInput.Split.TEST), feats[k], null, 0.2f, thumbs[k]);
        }
        Duplicates.Found g = Duplicates.find(b2.build(), DataCheck.NEAR_DUPLICATE, 100);
        assertTrue(g.pairs().stream().noneMatch(p -> p.first() == 1 && p.second() == 5) || pair(g, 1, 5).pixels() >= Duplicates.PIXELS_ALONE,
                g.pairs().toString());
    }

    /** suggestions.csv passed back as --labels is the same images, labels and splits, odd file names included. */
    @Test
    void suggestionsRoundTripThroughLabels() throws Exception {
        CheckInput.Builder b = CheckInput.builder(CLASSES, 0);
        String[] names = {"plain.png", "with, comma.png", "with \"quote\".png", "espa\u00f1ol.png"};
        for (int i = 0; i < 8; i++) {
            String split = i < 6 ? "train" : "test";
            Path f = Images.write(dir.resolve("data/" + split + "/" + CLASSES.get(i % 3) + "/" + i + names[i % 4]), Images.pattern(12, 12, i), "png");
            b.add(new CheckInput.Image(f, f.getFileName().toString(), i % 3, i < 6 ? CheckInput.Split.TRAIN : CheckInput.Split.TEST), null, null, Float.NaN);
        }
        CheckInput in = b.build();
        Path csv = Files.createDirectories(dir.resolve("out")).resolve("suggestions.csv");
        Suggestions.write(csv, DataCheck.run(in));
        java.util.List<dev.graft.data.CsvLabels.Row> rows = dev.graft.data.CsvLabels.read(csv, dir.resolve("data"));
        assertEquals(in.size(), rows.size());
        java.util.Set<String> want = new java.util.TreeSet<>();
        java.util.Set<String> got = new java.util.TreeSet<>();
        for (CheckInput.Image img : in.images()) {
            want.add(img.file().toAbsolutePath().normalize() + "|" + CLASSES.get(img.label()) + "|" + (img.split().trains() ? "TRAIN" : "TEST"));
        }
        for (dev.graft.data.CsvLabels.Row row : rows) {
            assertTrue(row.exists(), row.toString());
            got.add(row.file().toAbsolutePath().normalize() + "|" + row.label() + "|" + row.split());
        }
        assertEquals(want, got);
    }

    static float[] smooth(Random r, int t) {
        float[] out = new float[t * t];
        double[] fx = {r.nextDouble() * 0.4, r.nextDouble() * 0.4, r.nextDouble() * 0.4};
        double[] fy = {r.nextDouble() * 0.4, r.nextDouble() * 0.4, r.nextDouble() * 0.4};
        for (int y = 0; y < t; y++) {
            for (int x = 0; x < t; x++) {
                double v = 0.5;
                for (int k = 0; k < 3; k++) {
                    v += 0.15 * Math.sin(fx[k] * x + fy[k] * y + k);
                }
                out[y * t + x] = (float) v;
            }
        }
        return out;
    }

    /** An image far from every class centre, and a blank one, are outliers; the images of the classes are not. */
    @Test
    void outlierAndBlankImage() {
        int d = 24;
        Random r = new Random(9);
        float[][] centre = {gaussian(r, d), gaussian(r, d), gaussian(r, d)};
        CheckInput.Builder b = CheckInput.builder(CLASSES, d);
        for (int i = 0; i < 45; i++) {
            float[] x = centre[i % 3].clone();
            for (int j = 0; j < d; j++) {
                x[j] += 0.4f * (float) r.nextGaussian();
            }
            b.add(image(i, i % 3, i < 36 ? CheckInput.Split.TRAIN : CheckInput.Split.TEST), x, null, 0.2f);
        }
        // labelled cat, but it is none of the three: a direction of its own
        float[] odd = gaussian(r, d);
        b.add(image(45, 0, CheckInput.Split.TRAIN), odd, null, 0.2f);
        // looks like a dog, but its pixels hardly vary
        float[] flat = centre[1].clone();
        b.add(image(46, 1, CheckInput.Split.TRAIN), flat, null, 0.004f);
        Outliers.Found f = Outliers.find(b.build());
        List<Integer> flagged = f.outliers().stream().map(Outliers.Outlier::image).toList();
        assertEquals(List.of(46, 45), flagged, "outliers " + f.outliers() + ", fence " + f.fence());
        assertTrue(f.outliers().get(0).blank());
        assertFalse(f.outliers().get(1).blank());
        assertTrue(f.typicality()[45] < f.fence());
        assertEquals(1, f.nearestClass()[46]);
    }

    /** The most confused pair counts both directions and shows the most confident mistakes first. */
    @Test
    void confusedPairs() {
        CheckInput.Builder b = CheckInput.builder(CLASSES, 0);
        b.add(image(0, 0, CheckInput.Split.TRAIN), null, new double[] {0.2, 0.7, 0.1}, Float.NaN);
        b.add(image(1, 0, CheckInput.Split.TRAIN), null, new double[] {0.1, 0.85, 0.05}, Float.NaN);
        b.add(image(2, 1, CheckInput.Split.TRAIN), null, new double[] {0.6, 0.3, 0.1}, Float.NaN);
        b.add(image(3, 2, CheckInput.Split.TRAIN), null, new double[] {0.1, 0.1, 0.8}, Float.NaN);
        b.add(image(4, 2, CheckInput.Split.TRAIN), null, new double[] {0.5, 0.1, 0.4}, Float.NaN);
        Confusions.Found f = Confusions.find(b.build(), 10);
        assertEquals(0.2, f.accuracy(), 1e-12);
        assertEquals(2, f.pairs().size());
        Confusions.Pair top = f.pairs().get(0);
        assertEquals(0, top.a());
        assertEquals(1, top.b());
        assertEquals(2, top.aAsB());
        assertEquals(1, top.bAsA());
        assertEquals(List.of(1, 0, 2), top.examples());
    }

    static Duplicates.Pair pair(Duplicates.Found f, int a, int b) {
        return f.pairs().stream().filter(p -> p.first() == a && p.second() == b).findFirst().orElseThrow(() -> new AssertionError("no pair " + a + "-" + b + " in " + f.pairs()));
    }

    private CheckInput.Image image(int i, int label, CheckInput.Split split) {
        return new CheckInput.Image(dir.resolve("img" + i + ".png"), "img" + i, label, split);
    }

    private static float[] gaussian(Random r, int d) {
        float[] x = new float[d];
        for (int j = 0; j < d; j++) {
            x[j] = (float) r.nextGaussian();
        }
        return x;
    }
}
