package dev.graft.train;

import ai.djl.ndarray.NDManager;
import dev.graft.model.Network;
import dev.graft.model.nn.Torch;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --lr-groups: the body in depth order, rates rising geometrically (fastai's slice(lr / 100, lr)), the head last. */
class ParamGroupsTest {

    @Test
    void layeredGroupsCoverEveryParameterOnceWithRisingRates() {
        try (NDManager m = Torch.newManager()) {
            Network net = Fixtures.resnet18(m);
            ParamGroups g = ParamGroups.layered(net, 1e-3, 1e-2, 3, 0.01);
            assertEquals(4, g.groups().size());
            double[] want = {1e-5, 1e-4, 1e-3, 1e-2};
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < 4; i++) {
                assertEquals(want[i], g.groups().get(i).lr(), 1e-15, g.describe());
                g.groups().get(i).parameters().keySet().forEach(k -> assertTrue(seen.add(k), "twice: " + k));
            }
            assertEquals(net.namedParameters().keySet(), seen);
            assertTrue(g.groups().get(0).parameters().containsKey("conv1.weight"), "the stem learns slowest");
            assertTrue(g.groups().get(2).parameters().containsKey("layer4.1.bn2.weight"), "the last stage fastest of the body");
            assertEquals(net.headParameters().keySet(), g.groups().get(3).parameters().keySet());
        }
    }
}
