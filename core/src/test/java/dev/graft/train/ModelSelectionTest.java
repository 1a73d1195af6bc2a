package dev.graft.train;

import ai.djl.ndarray.NDManager;
import dev.graft.Images;
import dev.graft.Shared;
import dev.graft.data.DataSplits;
import dev.graft.model.nn.Torch;
import dev.graft.weights.Downloader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The default recipe's choice between the probe and the fine-tuned network. */
class ModelSelectionTest {
    @TempDir
    Path tmp;

    /** An evaluation of n two-class images: {@code right[i]} whether image i is right, with probability p of its answer. */
    static Evaluation eval(boolean[] right, float[] p) {
        int n = right.length;
        int[] labels = new int[n];
        int[] preds = new int[n];
        float[][] probs = new float[n][];
        int correct = 0;
        double loss = 0;
        for (int i = 0; i < n; i++) {
            labels[i] = i % 2;
            preds[i] = right[i] ? labels[i] : 1 - labels[i];
            probs[i] = new float[2];
            probs[i][preds[i]] = p[i];
            probs[i][1 - preds[i]] = 1 - p[i];
            correct += right[i] ? 1 : 0;
            loss += -Math.log(probs[i][labels[i]]);
        }
        int[] samples = new int[n];
        for (int i = 0; i < n; i++) {
            samples[i] = i;
        }
        return new Evaluation(samples, labels, preds, probs, (double) correct / n, loss / n, 0);
    }

    static boolean[] rights(int n, int wrongFrom) {
        boolean[] r = new boolean[n];
        for (int i = 0; i < n; i++) {
            r[i] = i < wrongFrom;
        }
        return r;
    }

    static float[] same(int n, float v) {
        float[] p = new float[n];
        java.util.Arrays.fill(p, v);
        return p;
    }

    @Test
    void fineTuningWinsWithClearlyMoreImagesRight() {
        // 40 images: the probe gets 30 right, fine-tuning 38 (8 more, none fewer: 8 > 0.5 sqrt(8))
        ModelSelection.Decision d = ModelSelection.decide(eval(rights(40, 30), same(40, 0.8f)), eval(rights(40, 38), same(40, 0.8f)));
        assertTrue(d.fineTuned(), d.why());
        assertEquals(8, d.onlyFineTuned());
        assertEquals(0, d.onlyProbe());
        assertTrue(d.why().contains("only fine-tuning gets 8 right, only the probe 0"), d.why());
    }

    @Test
    void aFineTuneAheadByAFewImagesIsKept() {
        // the 75-class case of the issue: ahead on validation by a small margin, with few disagreements
        boolean[] probe = rights(40, 36);
        boolean[] tuned = rights(40, 38);
        ModelSelection.Decision d = ModelSelection.decide(eval(probe, same(40, 0.8f)), eval(tuned, same(40, 0.8f)));
        assertTrue(d.fineTuned(), "2 ahead, 0 behind: 2 > 0.5 sqrt(2) " + d.why());
    }

    @Test
    void theProbeWinsWhenFineTuningIsNotAheadBeyondNoise() {
        // ahead by one image among many disagreements: 12 vs 11 (1 < 0.5 sqrt(23))
        boolean[] probe = new boolean[60];
        boolean[] tuned = new boolean[60];
        for (int i = 0; i < 60; i++) {
            probe[i] = i < 37 || i >= 48;   // wrong on 37..47 (11)
            tuned[i] = i >= 12;             // wrong on 0..11 (12)... right on 37..47
        }
        ModelSelection.Decision d = ModelSelection.decide(eval(probe, same(60, 0.8f)), eval(tuned, same(60, 0.8f)));
        assertEquals(11, d.onlyFineTuned());
        assertEquals(12, d.onlyProbe());
        assertFalse(d.fineTuned(), d.why());
        // fewer right: never fine-tuning, whatever the loss
        assertFalse(ModelSelection.decide(eval(rights(40, 38), same(40, 0.6f)), eval(rights(40, 36), same(40, 0.99f))).fineTuned());
        // identical predictions: the probe (a tie costs nothing)
        assertFalse(ModelSelection.decide(eval(rights(40, 35), same(40, 0.8f)), eval(rights(40, 35), same(40, 0.8f))).fineTuned());
        // a lower loss alone does not decide
        assertFalse(ModelSelection.decide(eval(rights(40, 36), same(40, 0.6f)), eval(rights(40, 36), same(40, 0.99f))).fineTuned());
    }

    @Test
    void theTwoMustHaveSeenTheSameImages() {
        Evaluation a = eval(rights(4, 2), same(4, 0.8f));
        Evaluation b = new Evaluation(new int[] {0, 1, 2, 7}, a.labels(), a.predictions(), a.probabilities(), a.accuracy(), a.loss(), 0);
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> ModelSelection.decide(a, b));
    }

    @Test
    void whenTheProbeWinsTheResultIsTheProbeOfModeProbe() throws Exception {
        // fine-tuning at a learning rate too small to change anything: the probe must win, refitted on everything
        Path data = Images.dataset(tmp.resolve("data"), new String[] {"a", "b"}, 10, 3);
        float[][] heads = new float[2][];
        String[] selection = new String[1];
        for (int i = 0; i < 2; i++) {
            // BatchNorm keeps the source's statistics too, or its running averages would move the network without any step
            Recipe r = Recipe.auto(i == 0 ? Recipe.Mode.FINETUNE : Recipe.Mode.PROBE, "resnet18", 20, 1).toBuilder().epochs(2).lr(1e-20)
                    .frozenBatchNorm(true).build();
            if (r.search() != null) {
                r = r.toBuilder().search(new Recipe.Search(Recipe.Quality.MEDIUM, 0, false, false)).build();
            }
            RunConfig cfg = RunConfig.builder(data, "resnet18", r).weights(Shared.path("fixtures/torchvision/resnet18_seed0.pth"))
                    .imageSize(32).build();
            try (NDManager m = Torch.newManager()) {
                FineTuning.Result res = FineTuning.run(cfg, new RunContext(new Downloader(tmp, s -> { }, false), m,
                        Fixtures.quiet(), List.of(), new StopSignal(), null, null, false));
                heads[i] = res.net().stateDict().get("layer4.1.conv2.weight").toFloats();
                if (i == 0) {
                    selection[0] = res.selection() + " / " + res.search().retrain();
                    assertTrue(res.data().validation().size() == 4, "a fifth held out");
                }
            }
        }
        assertTrue(selection[0].startsWith("kept the probe"), selection[0]);
        assertTrue(selection[0].contains("the probe refitted on all 20 training images"), selection[0]);
        assertArrayEquals(heads[1], heads[0], "the body is the source's, as --mode probe's");
    }
}
