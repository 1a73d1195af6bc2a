package dev.graft.train;

import ai.djl.ndarray.NDManager;
import dev.graft.Images;
import dev.graft.Shared;
import dev.graft.model.nn.Torch;
import dev.graft.weights.Downloader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** fastai's valley rule on curves whose answer is known, and the sweep of the network that will train. */
class LrFinderTest {
    @TempDir
    Path tmp;

    @Test
    void valleyIsTwoThirdsAlongTheLongestFall() {
        int n = 100;
        double[] lrs = new double[n];
        double[] losses = new double[n];
        for (int i = 0; i < n; i++) {
            lrs[i] = 1e-7 * Math.pow(1e8, i / 99.0);
            // flat, then falling from index 10 to 70, then rising steeply
            losses[i] = i < 10 ? 5 : i <= 70 ? 5 - 4.0 * (i - 10) / 60 : 1 + (i - 70);
        }
        // points 10..94 are considered; the fall spans their first 61, so (as fastai's code computes it) the run
        // starts at -1, sections = 61 / 3, and the index is -1 + 20 + 10 = 29 of the considered points
        assertEquals(lrs[10 + 29], LrFinder.valley(lrs, losses, n), 0);
    }

    @Test
    void aShortSweepFollowsTheSameRule() {
        double[] lrs = {1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100};
        double[] losses = {3, 2.5, 2, 1.5, 1, 3, 9, 30};
        // 8 points of 100 planned: points 1..2 are considered (the first tenth and the last five are not); they fall,
        // the run starts at -1 with sections 2/3, so the index clamps to the first considered point
        assertEquals(1e-4, LrFinder.valley(lrs, losses, 100), 0);
        // a different curve moves the answer: falling through the considered points 1..6 of 12
        double[] lrs12 = new double[12];
        double[] fall = new double[12];
        for (int i = 0; i < 12; i++) {
            lrs12[i] = Math.pow(10, i - 6);
            fall[i] = i <= 6 ? 10 - i : 10 + i;
        }
        // considered: from min(10, 12 - 7) = 5 to 12 - 5 = 7, i.e. points 5 and 6, both falling: index clamps to 0
        assertEquals(lrs12[5], LrFinder.valley(lrs12, fall, 100), 0);
        assertEquals(lrs12[1 + 2], LrFinder.valley(lrs12, fall, 12), 0, "planned 12: points 1..6 considered, all falling: index -1 + 2 + 1");
    }

    /** Two classes a probe separates at once: reddish and bluish photos of noise. */
    static Path colours(Path root) throws Exception {
        Random r = new Random(3);
        for (String split : new String[] {"train", "test"}) {
            for (int c = 0; c < 2; c++) {
                for (int i = 0; i < (split.equals("train") ? 12 : 2); i++) {
                    BufferedImage img = new BufferedImage(40, 40, BufferedImage.TYPE_INT_RGB);
                    Graphics2D g = img.createGraphics();
                    for (int k = 0; k < 30; k++) {
                        int v = r.nextInt(80);
                        g.setColor(c == 0 ? new Color(175 + v, v, v) : new Color(v, v, 175 + v));
                        g.fillRect(r.nextInt(40), r.nextInt(40), 8, 8);
                    }
                    g.dispose();
                    Images.write(root.resolve(split).resolve(c == 0 ? "red" : "blue").resolve(i + ".png"), img, "png");
                }
            }
        }
        return root;
    }

    /** The sweep's first loss (taken at 1e-7, before anything moved): the network as the recipe would start it. */
    double firstLoss(Recipe r, Path data) {
        RunConfig cfg = RunConfig.builder(data, "resnet18", r).weights(Shared.path("fixtures/torchvision/resnet18_seed0.pth")).imageSize(32).build();
        try (NDManager m = Torch.newManager()) {
            LrFinder.Sweep s = LrFinder.run(cfg, new RunContext(new Downloader(tmp, x -> { }, false), m, Fixtures.quiet(), List.of(),
                    new StopSignal(), null, null, false), 12, 1e-7, 1e-6);
            return s.losses()[0];
        }
    }

    @Test
    void theSweepStartsFromTheHeadTheRecipeTrains() throws Exception {
        Path data = colours(tmp.resolve("colours"));
        // without augmentation, so the first batch is what the head was fitted on
        // (and with BatchNorm on its running statistics: the fixture's random weights make batch statistics a different network)
        Recipe auto = Recipe.auto(Recipe.Mode.FINETUNE, "resnet18", 24, 1).toBuilder().batchSize(4).augment(false).frozenBatchNorm(true).build();
        double probeStart = firstLoss(auto, data);
        double xavierStart = firstLoss(auto.toBuilder().headInit(Recipe.HeadInit.XAVIER).build(), data);
        // the default starts from the probe, which already separates the colours; a Xavier head starts near chance
        assertTrue(probeStart < 0.35, "the default's sweep should start at the probe's low loss, not " + probeStart);
        assertTrue(xavierStart > probeStart + 0.2, "a Xavier head starts higher: " + xavierStart + " vs " + probeStart);
    }
}
