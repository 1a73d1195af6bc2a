package dev.graft.model;

import ai.djl.ndarray.NDManager;
import dev.graft.Shared;
import dev.graft.data.ImageDecoder;
import dev.graft.data.RgbImage;
import dev.graft.data.Transforms;
import dev.graft.model.nn.Torch;
import dev.graft.train.Fixtures;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Test-time augmentation: N seeded views averaged, then mixed 0.75 / 0.25 with the plain prediction (fastai's tta). */
class TtaTest {

    @Test
    void mixIsThreeQuartersViewsOneQuarterPlain() {
        float[][] mixed = Predictor.mixTta(new float[][] {{1f, 0f}}, new float[][] {{0.2f, 0.8f}});
        assertArrayEquals(new float[] {0.75f * 0.2f + 0.25f, 0.75f * 0.8f}, mixed[0], 1e-7f);
    }

    @Test
    void predictionAveragesTheSeededViewsAndMixesThePlainOne() throws Exception {
        ImageDecoder dec = new ImageDecoder();
        List<RgbImage> images = List.of(dec.decode(Shared.hotdog().resolve("test/hotdog/b1d13254d61f.jpg")),
                dec.decode(Shared.hotdog().resolve("train/not-hotdog/" + firstFile("train/not-hotdog"))));
        try (NDManager m = Torch.newManager()) {
            Network net = Fixtures.resnet18(m);
            try (Predictor p = new Predictor(net, Fixtures.SMALL)) {
                float[][] plain = p.probabilities(images);
                float[][] tta = p.probabilities(images, 3);
                int floats = Transforms.size(Fixtures.SMALL);
                float[][] mean = new float[2][2];
                for (int k = 0; k < 3; k++) {
                    float[] data = new float[2 * floats];
                    for (int i = 0; i < 2; i++) {
                        Predictor.ttaView(Fixtures.SMALL, k).apply(images.get(i), null, data, i * floats);
                    }
                    float[][] v = p.probabilities(data, 2);
                    assertNotEquals(plain[0][0], v[0][0], "a view is not the plain centre crop");
                    for (int i = 0; i < 2; i++) {
                        for (int c = 0; c < 2; c++) {
                            mean[i][c] += v[i][c] / 3;
                        }
                    }
                }
                for (int i = 0; i < 2; i++) {
                    assertArrayEquals(Predictor.mixTta(plain, mean)[i], tta[i], 1e-6f);
                    assertEquals(1f, tta[i][0] + tta[i][1], 1e-5f);
                }
                // the same views wherever the image is predicted: a second call gives the same answer
                assertArrayEquals(tta[0], p.probabilities(images, 3)[0], 0f);
                assertTrue(p.probabilities(images, 0)[0][0] == plain[0][0], "0 views: plain");
            }
        }
    }

    /**
     * The TTA figure training reports ({@link dev.graft.train.Evaluator#evaluateTta}) checked against an expectation
     * written out here: each view through the plain prediction path, softmax, the mean of the views and the 3:1 mix
     * computed in this test, not with {@link Predictor#mixTta} or {@link Predictor#probabilities(List, int)}.
     */
    @Test
    void theReportedTtaAccuracyIsThatOfThreeQuartersViewsAndOneQuarterPlain() throws Exception {
        dev.graft.data.ImageFolder test = Fixtures.subset(1, 4).test();
        int views = 3;
        ImageDecoder dec = new ImageDecoder();
        int floats = Transforms.size(Fixtures.SMALL);
        try (NDManager m = Torch.newManager()) {
            Network net = Fixtures.resnet18(m);
            dev.graft.train.Evaluation e = dev.graft.train.Evaluator.evaluateTta(net, test, Fixtures.SMALL, Fixtures.quiet(),
                    new dev.graft.data.BadImages(x -> { }), views);
            assertEquals(test.size(), e.size());
            int correct = 0;
            double largestGap = 0;
            double largestHalfGap = 0;
            try (Predictor p = new Predictor(net, Fixtures.SMALL)) {
                for (int i = 0; i < e.size(); i++) {
                    dev.graft.data.ImageFolder.Sample sample = test.samples().get(e.samples()[i]);
                    RgbImage img = dec.decode(sample.path());
                    float[] x = new float[floats];
                    Transforms.bookTest(Fixtures.SMALL).apply(img, null, x, 0);
                    double[] plain = softmax(p.logits(x, 1));
                    double[] mean = new double[plain.length];
                    for (int k = 0; k < views; k++) {
                        Predictor.ttaView(Fixtures.SMALL, k).apply(img, null, x, 0);
                        double[] v = softmax(p.logits(x, 1));
                        for (int c = 0; c < v.length; c++) {
                            mean[c] += v[c] / views;
                        }
                    }
                    int best = 0;
                    for (int c = 0; c < plain.length; c++) {
                        double expected = 0.75 * mean[c] + 0.25 * plain[c];
                        assertEquals(expected, e.probabilities()[i][c], 1e-5, "image " + sample.path().getFileName() + ", class " + c);
                        largestGap = Math.max(largestGap, Math.abs(expected - plain[c]));
                        largestHalfGap = Math.max(largestHalfGap, Math.abs(expected - (0.5 * mean[c] + 0.5 * plain[c])));
                        if (expected > 0.75 * mean[best] + 0.25 * plain[best]) {
                            best = c;
                        }
                    }
                    assertEquals(sample.label(), e.labels()[i], "labels stay with their images");
                    assertEquals(best, e.predictions()[i]);
                    correct += best == sample.label() ? 1 : 0;
                }
            }
            assertEquals((double) correct / e.size(), e.accuracy(), 1e-12, "the reported accuracy");
            // the check can tell: the views move the answer away from the plain one, and from an even mix
            assertTrue(largestGap > 1e-3 && largestHalfGap > 1e-4, "gaps " + largestGap + " " + largestHalfGap);
            // and predict / serve mix the same views the same way
            try (Predictor p = new Predictor(net, Fixtures.SMALL)) {
                RgbImage first = dec.decode(test.samples().get(e.samples()[0]).path());
                assertArrayEquals(e.probabilities()[0], p.probabilities(List.of(first), views)[0], 1e-5f);
            }
        }
    }

    static double[] softmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double sum = 0;
        double[] out = new double[logits.length];
        for (int c = 0; c < logits.length; c++) {
            out[c] = Math.exp(logits[c] - max);
            sum += out[c];
        }
        for (int c = 0; c < logits.length; c++) {
            out[c] /= sum;
        }
        return out;
    }

    private static String firstFile(String dir) throws Exception {
        try (var s = java.nio.file.Files.list(Shared.hotdog().resolve(dir))) {
            return s.map(x -> x.getFileName().toString()).sorted().findFirst().orElseThrow();
        }
    }
}
