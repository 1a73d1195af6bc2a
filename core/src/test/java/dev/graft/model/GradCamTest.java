package dev.graft.model;

import ai.djl.ndarray.NDManager;
import dev.graft.Shared;
import dev.graft.data.ImageDecoder;
import dev.graft.data.Resample;
import dev.graft.data.RgbImage;
import dev.graft.model.nn.Layers;
import dev.graft.model.nn.Torch;
import dev.graft.report.HeatMaps;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Grad-CAM finds a synthetic object: a photo of a hot dog pasted at a known place on a noisy grey background. The
 * head is the real ImageNet MobileNet's features with class 0 = "object" (mean object features minus mean
 * background features), so the map must peak where the object is, wherever it is put.
 */
class GradCamTest {
    static final int SIZE = 224;
    static final int OBJECT = 80;

    static RgbImage background(SplittableRandom rng) {
        byte[] rgb = new byte[SIZE * SIZE * 3];
        for (int i = 0; i < SIZE * SIZE; i++) {
            int v = 110 + rng.nextInt(30);
            rgb[3 * i] = (byte) v;
            rgb[3 * i + 1] = (byte) v;
            rgb[3 * i + 2] = (byte) v;
        }
        return new RgbImage(SIZE, SIZE, rgb);
    }

    static RgbImage paste(RgbImage bg, RgbImage obj, int x0, int y0) {
        byte[] rgb = bg.rgb().clone();
        for (int y = 0; y < obj.height(); y++) {
            for (int x = 0; x < obj.width(); x++) {
                for (int c = 0; c < 3; c++) {
                    rgb[3 * ((y0 + y) * SIZE + x0 + x) + c] = (byte) obj.get(x, y, c);
                }
            }
        }
        return new RgbImage(SIZE, SIZE, rgb);
    }

    @Test
    void heatMapPeaksWhereTheObjectIs() throws Exception {
        Backbone b = Backbone.load(Architectures.get("mobilenet_v1_0.75"), Shared.path("models/keras-mobilenet_v1_0.75_224/model.json"),
                true, null, null, s -> { });
        // a preprocessing without resizing: the 224 x 224 image is the network's input as it is
        dev.graft.data.Preprocessing pre = new dev.graft.data.Preprocessing(SIZE, false, SIZE, b.preprocessing().mean(), b.preprocessing().std());
        ImageDecoder dec = new ImageDecoder();
        RgbImage hotdog = Resample.resize(dec.decode(Shared.hotdog().resolve("test/hotdog/b1d13254d61f.jpg")), OBJECT, OBJECT);
        SplittableRandom rng = new SplittableRandom(3);
        List<RgbImage> objects = new ArrayList<>();
        List<RgbImage> empty = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            objects.add(paste(background(rng), hotdog, rng.nextInt(SIZE - OBJECT), rng.nextInt(SIZE - OBJECT)));
            empty.add(background(rng));
        }
        try (NDManager m = Torch.newManager()) {
            Network net = b.newNetwork(2, new Layers(m));
            b.copyBody(net);
            float[] fo;
            float[] fe;
            try (Predictor p = new Predictor(net, pre)) {
                fo = p.features(p.transform(objects), objects.size());
                fe = p.features(p.transform(empty), empty.size());
            }
            int d = net.featureDim();
            {
                float[] w = new float[2 * d];
                for (int k = 0; k < d; k++) {
                    double diff = 0;
                    for (int i = 0; i < objects.size(); i++) {
                        diff += (fo[i * d + k] - fe[i * d + k]) / objects.size();
                    }
                    w[k] = (float) diff;
                    w[d + k] = (float) -diff;
                }
                net.setHead(w, new float[2]);
            }
            // a predictor prepares its inference weights when it opens: open it once the head is set
            try (Predictor p = new Predictor(net, pre)) {
                // the object in each quadrant: the peak must be in that quadrant of the 7 x 7 map
                int[][] corners = {{8, 8}, {SIZE - OBJECT - 8, 8}, {8, SIZE - OBJECT - 8}, {SIZE - OBJECT - 8, SIZE - OBJECT - 8}};
                List<RgbImage> tests = new ArrayList<>();
                for (int[] c : corners) {
                    tests.add(paste(background(rng), hotdog, c[0], c[1]));
                }
                GradCam.Heat[] maps = p.explain(tests, new int[] {0, 0, 0, 0});
                for (int i = 0; i < corners.length; i++) {
                    GradCam.Heat h = maps[i];
                    assertEquals(7, h.height());
                    assertEquals(7, h.width());
                    assertEquals(0, h.target());
                    int[] peak = h.peak();
                    int[] want = {(corners[i][1] + OBJECT / 2) * 7 / SIZE, (corners[i][0] + OBJECT / 2) * 7 / SIZE};
                    System.out.printf("object at %s: peak cell %s, object centre cell %s%n", java.util.Arrays.toString(corners[i]),
                            java.util.Arrays.toString(peak), java.util.Arrays.toString(want));
                    assertTrue(Math.abs(peak[0] - want[0]) <= 1 && Math.abs(peak[1] - want[1]) <= 1,
                            "object " + i + ": peak " + java.util.Arrays.toString(peak) + ", object at cell " + java.util.Arrays.toString(want));
                    assertEquals(1f, h.values()[peak[0] * 7 + peak[1]], 1e-6f, "scaled to a maximum of 1");
                    // the opposite corner of the map is cold
                    assertTrue(h.at(6 - want[0], 6 - want[1]) < 0.3f, "far corner " + h.at(6 - want[0], 6 - want[1]));
                }
                // the prediction path is untouched by the explanation (gradients cleared, weights the same)
                float[][] before = p.probabilities(tests);
                p.explain(tests, null);
                assertArrayEquals(before[0], p.probabilities(tests)[0], 1e-6f);
                BufferedImage overlay = HeatMaps.overlay(p.crop(tests.get(0)), maps[0]);
                assertEquals(SIZE, overlay.getWidth());
                // the overlay is red over the object's centre and blue-ish far from it
                int hot = overlay.getRGB(8 + OBJECT / 2, 8 + OBJECT / 2);
                int cold = overlay.getRGB(SIZE - 10, SIZE - 10);
                assertTrue(((hot >> 16) & 255) > ((cold >> 16) & 255), "red over the object");
            }
        }
    }
}
