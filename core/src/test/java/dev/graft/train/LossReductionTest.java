package dev.graft.train;

import ai.djl.ndarray.NDManager;
import dev.graft.model.Network;
import dev.graft.model.nn.Torch;
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
        Recipe sum = Fixtures.recipe(Recipe.Mode.FINETUNE, 1, batch).lr(5e-5).weightDecay(1e-3).augment(false).build();
        Recipe mean = Fixtures.recipe(Recipe.Mode.FINETUNE, 1, batch).lr(5e-5 * batch).weightDecay(1e-3 / batch)
                .lossReduction(Recipe.Reduction.MEAN).augment(false).build();
        StateDict[] out = new StateDict[2];
        Recipe[] recipes = {sum, mean};
        for (int i = 0; i < 2; i++) {
            try (NDManager m = Torch.newManager()) {
                Network net = Fixtures.resnet18(m);
                Fixtures.fit(net, recipes[i], Fixtures.subset(4, 0), Fixtures.quiet(), List.of());
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
