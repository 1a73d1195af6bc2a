package dev.graft.train;

import ai.djl.ndarray.NDManager;
import dev.graft.model.Network;
import dev.graft.model.Torch;
import dev.graft.weights.StateDict;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The book's train_batch_ch13 sums per-example losses before backward, so its lr 5e-5 at batch 128 equals a
 * mean-loss lr of 6.4e-3 (and its weight decay 1e-3 to 1e-3 / 128). Both must land on the same weights.
 */
class LossReductionTest {

    @Test
    void summedLossAtLrEqualsMeanLossAtLrTimesBatch() {
        int batch = 8;
        Recipe sum = new Recipe("t", Recipe.Mode.FINETUNE, 1, batch, 5e-5, 10, 1e-3, 0, Recipe.Reduction.SUM,
                Recipe.Schedule.CONSTANT, 0, false, 0.08, 0, Recipe.HeadInit.XAVIER, 0.1, false, 1);
        Recipe mean = new Recipe("t", Recipe.Mode.FINETUNE, 1, batch, 5e-5 * batch, 10, 1e-3 / batch, 0, Recipe.Reduction.MEAN,
                Recipe.Schedule.CONSTANT, 0, false, 0.08, 0, Recipe.HeadInit.XAVIER, 0.1, false, 1);
        StateDict[] out = new StateDict[2];
        Recipe[] recipes = {sum, mean};
        for (int i = 0; i < 2; i++) {
            try (NDManager m = Torch.newManager()) {
                Network net = TrainerTest.resnet18(m);
                Trainer.Data d = new Trainer.Data(TrainerTest.subset(4, 1).train(), null, null, TrainerTest.SMALL);
                new Trainer(net, recipes[i], d, TrainerTest.quiet(), List.of()).fit();
                out[i] = net.stateDict();
            }
        }
        // torch's weight_decay is added to the gradient, so the mean-loss twin needs weight decay / batch too
        for (String k : out[0].names()) {
            float[] a = out[0].get(k).toFloats();
            float[] b = out[1].get(k).toFloats();
            double diff = 0;
            double norm = 1e-12;
            for (int i = 0; i < a.length; i++) {
                diff += (a[i] - b[i]) * (double) (a[i] - b[i]);
                norm += a[i] * (double) a[i];
            }
            assertTrue(Math.sqrt(diff / norm) < 1e-5, k + ": relative difference " + Math.sqrt(diff / norm));
        }
    }
}
