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

    private static String firstFile(String dir) throws Exception {
        try (var s = java.nio.file.Files.list(Shared.hotdog().resolve(dir))) {
            return s.map(x -> x.getFileName().toString()).sorted().findFirst().orElseThrow();
        }
    }
}
