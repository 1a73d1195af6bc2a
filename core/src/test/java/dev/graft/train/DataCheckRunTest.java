package dev.graft.train;

import ai.djl.ndarray.NDManager;
import dev.graft.Images;
import dev.graft.Shared;
import dev.graft.data.BadImages;
import dev.graft.data.ImageFolder;
import dev.graft.model.Architectures;
import dev.graft.model.Backbone;
import dev.graft.model.Network;
import dev.graft.model.nn.Layers;
import dev.graft.model.nn.Torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the data check needs from the training layer: out-of-fold probabilities and the shared feature cache. */
class DataCheckRunTest {
    @TempDir
    Path dir;

    /** Each row is predicted by a probe that did not see it: a flipped label gets a low probability, unlike in-sample. */
    @Test
    void outOfFoldProbabilitiesComeFromFitsWithoutTheRow() {
        int n = 60;
        int d = 8;
        Random r = new Random(2);
        float[] x = new float[n * d];
        int[] y = new int[n];
        int[] s = new int[n];
        String[] ids = new String[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 2;
            for (int j = 0; j < d; j++) {
                x[i * d + j] = (float) r.nextGaussian() * 0.5f + (j == 0 ? (y[i] == 0 ? -3f : 3f) : 0f);
            }
            s[i] = i;
            ids[i] = String.format("%03d", i);
        }
        y[7] = 0; // a class-1 point labelled 0
        FeatureSet fs = new FeatureSet(x, y, s, ids, d);
        LinearProbe lp = new LinearProbe(2, d);
        double lambda = 1e-3;
        double[][] oof = lp.outOfFold(fs, lambda, 5, 1);
        assertEquals(n, oof.length);
        for (double[] p : oof) {
            assertNotNull(p);
            assertEquals(1.0, p[0] + p[1], 1e-9);
        }
        double inSample = lp.probabilities(lp.fit(fs, lambda, 300), x, 7 * d)[0];
        assertTrue(oof[7][0] < 0.1, "out of fold p(given) " + oof[7][0]);
        assertTrue(inSample > oof[7][0] + 0.1, "in-sample " + inSample + " vs out-of-fold " + oof[7][0]);
        // the rest are predicted well
        double mean = 0;
        for (int i = 0; i < n; i++) {
            mean += i == 7 ? 0 : oof[i][y[i]] / (n - 1);
        }
        assertTrue(mean > 0.9, "mean out-of-fold p(given) of the correctly labelled rows " + mean);
    }

    /** A second cache over the same file computes nothing and gives the same features; a changed image is computed again. */
    @Test
    void featuresAreCachedByImageContentForOneSourceModel() throws Exception {
        Path data = Images.dataset(dir.resolve("data"), new String[] {"a", "b"}, 4, 0);
        BufferedImage grey = new BufferedImage(64, 48, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = grey.createGraphics();
        g.setColor(new Color(128, 128, 128));
        g.fillRect(0, 0, 64, 48);
        g.dispose();
        Images.write(data.resolve("train/a/grey.png"), grey, "png");
        ImageFolder folder = ImageFolder.scan(data.resolve("train"), null);
        Path weights = Shared.path("fixtures/torchvision/resnet18_seed0.pth");
        Path cacheDir = dir.resolve("cache");
        TrainOptions opts = Fixtures.quiet();
        try (NDManager m = Torch.newManager()) {
            Backbone source = Backbone.load(Architectures.get("resnet18"), weights, true, null, Fixtures.SMALL, s -> { });
            Network net = source.newNetwork(2, new Layers(m));
            source.copyBody(net);
            FeatureCache first = FeatureCache.of(cacheDir, source, null, net, Fixtures.SMALL, s -> { });
            FeatureSet a = first.compute(net, folder, Fixtures.SMALL, opts, new BadImages(s -> { }), FeatureCache.Progress.NONE);
            assertEquals(9, first.computed());
            assertTrue(Files.isRegularFile(first.file()), "cache file");
            Path greyFile = data.resolve("train/a/grey.png");
            assertTrue(first.spread(greyFile) < 1e-3, "grey spread " + first.spread(greyFile));
            for (float v : first.thumbnail(greyFile)) {
                assertEquals(128 / 255f, v, 2e-3);
            }
            assertTrue(first.spread(data.resolve("train/a/a_0.jpg")) > 0.05);

            FeatureCache second = FeatureCache.of(cacheDir, source, null, net, Fixtures.SMALL, s -> { });
            FeatureSet b = second.compute(net, folder, Fixtures.SMALL, opts, new BadImages(s -> { }), FeatureCache.Progress.NONE);
            assertEquals(0, second.computed());
            assertEquals(9, second.hits());
            assertArrayEquals(a.features(), b.features());
            assertArrayEquals(a.labels(), b.labels());
            assertArrayEquals(a.ids(), b.ids());
            // FeatureSet.compute, the uncached pass, gives the same rows
            FeatureSet direct = FeatureSet.compute(net, folder, Fixtures.SMALL, opts, new BadImages(s -> { }));
            assertArrayEquals(direct.ids(), b.ids());
            for (int i = 0; i < direct.features().length; i++) {
                assertEquals(direct.features()[i], b.features()[i], 1e-4f);
            }

            // new bytes under an old name are a new image
            Images.write(data.resolve("train/b/b_0.jpg"), Images.pattern(50, 50, 999), "jpg");
            FeatureCache third = FeatureCache.of(cacheDir, source, null, net, Fixtures.SMALL, s -> { });
            third.compute(net, folder, Fixtures.SMALL, opts, new BadImages(s -> { }), FeatureCache.Progress.NONE);
            assertEquals(1, third.computed());

            // another preprocessing is another cache
            FeatureCache other = FeatureCache.of(cacheDir, source, null, net, Fixtures.SMALL.withCrop(96), s -> { });
            assertNotEquals(first.file(), other.file());
            // weights graft cannot identify by their bytes are kept in memory only
            Backbone unknown = new Backbone(source.architecture(), "fixture", source.body(), null, List.of(), Fixtures.SMALL);
            assertEquals(null, FeatureCache.of(cacheDir, unknown, null, net, Fixtures.SMALL, s -> { }).file());
        }
    }
}
