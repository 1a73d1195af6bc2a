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
        return new Evaluation(new int[n], labels, preds, probs, (double) correct / n, loss / n, 0);
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
        // 40 images: the probe gets 30 right, fine-tuning 38 (8 more, none fewer: 8 > sqrt(8))
        ModelSelection.Decision d = ModelSelection.decide(eval(rights(40, 30), same(40, 0.8f)), eval(rights(40, 38), same(40, 0.8f)));
        assertTrue(d.fineTuned(), d.why());
        assertTrue(d.why().contains("only fine-tuning gets right 8, only the probe 0"), d.why());
    }

    @Test
    void aLowerLossAloneDoesNotDecide() {
        // the same 36 of 40 right; fine-tuning is surer of the right ones (0.95 against 0.6) and no surer of the wrong
        float[] probe = same(40, 0.6f);
        float[] tuned = same(40, 0.95f);
        for (int i = 36; i < 40; i++) {
            tuned[i] = 0.6f;
        }
        ModelSelection.Decision d = ModelSelection.decide(eval(rights(40, 36), probe), eval(rights(40, 36), tuned));
        assertFalse(d.fineTuned(), d.why());
        assertTrue(d.why().contains("loss difference 0.414"), d.why());
    }

    @Test
    void theProbeWinsWhenFineTuningIsNotBetterBeyondNoise() {
        // one image more right is within noise (1 <= sqrt(1)), and the losses are the same: the simpler model stays
        assertFalse(ModelSelection.decide(eval(rights(40, 30), same(40, 0.8f)), eval(rights(40, 31), same(40, 0.8f))).fineTuned());
        // fewer right: never fine-tuning, whatever the loss
        assertFalse(ModelSelection.decide(eval(rights(40, 38), same(40, 0.6f)), eval(rights(40, 36), same(40, 0.99f))).fineTuned());
        // identical predictions
        assertFalse(ModelSelection.decide(eval(rights(40, 35), same(40, 0.8f)), eval(rights(40, 35), same(40, 0.8f))).fineTuned());
    }

    @Test
    void whenTheProbeWinsTheResultIsTheProbeOfModeProbe() throws Exception {
        // fine-tuning at a learning rate too small to change anything: the probe must win, refitted on everything
        Path data = Images.dataset(tmp.resolve("data"), new String[] {"a", "b"}, 10, 3);
        float[][] heads = new float[2][];
        String[] selection = new String[1];
        for (int i = 0; i < 2; i++) {
            Recipe r = Recipe.auto(i == 0 ? Recipe.Mode.FINETUNE : Recipe.Mode.PROBE, 20, 1).toBuilder().epochs(2).lr(1e-20).build();
            RunConfig cfg = RunConfig.builder(data, "resnet18", r).weights(Shared.path("fixtures/torchvision/resnet18_seed0.pth"))
                    .imageSize(32).build();
            try (NDManager m = Torch.newManager()) {
                FineTuning.Result res = FineTuning.run(cfg, new RunContext(new Downloader(tmp, s -> { }, false), m,
                        Fixtures.quiet(), List.of(), new StopSignal(), null, null, false));
                heads[i] = res.net().stateDict().get("fc.weight").toFloats();
                if (i == 0) {
                    selection[0] = res.selection();
                    assertTrue(res.data().validation().size() == 4, "a fifth held out");
                }
            }
        }
        assertTrue(selection[0].startsWith("kept the probe"), selection[0]);
        assertArrayEquals(heads[1], heads[0], "refitted on all training images, it is --mode probe's head");
    }
}
