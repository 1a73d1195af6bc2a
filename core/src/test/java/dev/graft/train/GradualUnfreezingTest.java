package dev.graft.train;

import ai.djl.ndarray.NDManager;
import dev.graft.model.Network;
import dev.graft.model.nn.Torch;
import dev.graft.weights.TensorData;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** fastai's fine_tune: during the frozen epochs only the head moves (BatchNorm statistics included); then everything. */
class GradualUnfreezingTest {

    @Test
    void bodyStaysPutWhileFrozenThenTrains() {
        try (NDManager m = Torch.newManager()) {
            Network net = Fixtures.resnet18(m);
            Map<String, TensorData> start = Fixtures.snapshotBody(net);
            float[] headStart = net.stateDict().get(net.headName() + ".weight").toFloats();
            List<Map<String, TensorData>> afterEpoch = new ArrayList<>();
            List<Boolean> frozenDuring = new ArrayList<>();
            TrainingListener watch = new TrainingListener() {
                @Override
                public void onBatch(Trainer t, BatchSource.Batch b, float loss) {
                    frozenDuring.add(t.network().isFrozenBody());
                }

                @Override
                public void onEpoch(Trainer t) {
                    afterEpoch.add(Fixtures.snapshotBody(t.network()));
                }
            };
            Recipe r = Fixtures.recipe(Recipe.Mode.FINETUNE, 2, 4).augment(false).lr(1e-3).build();
            Fixtures.fit(net, r, Fixtures.subset(4, 0), Fixtures.quiet(), List.of(new GradualUnfreezing(1, s -> { }), watch));
            assertEquals(2, afterEpoch.size());
            for (String k : start.keySet()) {
                assertArrayEquals(start.get(k).toFloats(), afterEpoch.get(0).get(k).toFloats(), 0f, k + " moved during the frozen epoch");
            }
            long moved = start.keySet().stream().filter(k -> !java.util.Arrays.equals(start.get(k).toFloats(), afterEpoch.get(1).get(k).toFloats())).count();
            assertTrue(moved > start.size() / 2, "the unfrozen body trains: " + moved + " of " + start.size() + " tensors changed");
            assertTrue(frozenDuring.get(0) && !frozenDuring.get(frozenDuring.size() - 1), frozenDuring.toString());
            assertTrue(!java.util.Arrays.equals(headStart, net.stateDict().get(net.headName() + ".weight").toFloats()), "the head trains");
        }
    }
}
