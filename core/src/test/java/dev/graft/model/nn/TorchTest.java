package dev.graft.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.graft.data.Transforms;
import dev.graft.model.Network;
import dev.graft.model.Predictor;
import dev.graft.train.Fixtures;
import dev.graft.train.Recipe;
import org.junit.jupiter.api.Test;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Java arrays into tensors: the values from the offset, in libtorch's memory (not a direct buffer left to the GC). */
class TorchTest {

    @Test
    void floatsHoldTheValuesFromTheOffset() {
        float[] data = new float[24];
        for (int i = 0; i < data.length; i++) {
            data[i] = i * 0.5f;
        }
        try (NDManager m = Torch.newManager()) {
            NDArray x = Torch.floats(m, data, 4, new Shape(2, 2, 5));
            assertArrayEquals(java.util.Arrays.copyOfRange(data, 4, 24), x.toFloatArray(), 0f);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Torch.floats(m, data, 10, new Shape(3, 5)));
            assertTrue(e.getMessage().contains("needs 15 values from 10; the array has 24"), e.getMessage());
        }
    }

    @Test
    void trainingLeavesNoDirectBuffersBehind() {
        // the same copy per training step: batch 128 of MobileNet v1 left 77 MB a step to the next collection
        BufferPoolMXBean direct = direct();
        int batch = 4;
        long batchBytes = (long) batch * Transforms.size(Fixtures.SMALL) * 4;
        try (NDManager m = Torch.newManager()) {
            Network net = Fixtures.resnet18(m);
            Recipe warm = Fixtures.recipe(Recipe.Mode.FINETUNE, 1, batch).build();
            Fixtures.fit(net, warm, Fixtures.subset(2, 0), Fixtures.quiet(), List.of());
            long before = direct.getMemoryUsed();
            Recipe r = Fixtures.recipe(Recipe.Mode.FINETUNE, 2, batch).build();
            Fixtures.fit(net, r, Fixtures.subset(8, 0), Fixtures.quiet(), List.of()); // 8 steps
            long grown = direct.getMemoryUsed() - before;
            assertTrue(grown < batchBytes, "8 training steps left " + grown + " bytes of direct buffers (a batch is " + batchBytes + ")");
        }
    }

    private static BufferPoolMXBean direct() {
        return ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(b -> b.getName().equals("direct")).findFirst().orElseThrow();
    }

    @Test
    void predictionLeavesNoDirectBuffersBehind() throws Exception {
        // DJL's create(FloatBuffer) copied each batch into a new direct buffer that only a garbage collection frees:
        // a server or a long prediction grew by one batch per call (MobileNetV2 at batch 64: 35 MB a batch)
        int n = 4;
        float[] batch = new float[n * Transforms.size(Fixtures.SMALL)];
        Random r = new Random(3);
        for (int i = 0; i < batch.length; i++) {
            batch[i] = (float) r.nextGaussian();
        }
        BufferPoolMXBean direct = direct();
        try (NDManager m = Torch.newManager()) {
            Network net = Fixtures.resnet18(m);
            try (Predictor p = new Predictor(net, Fixtures.SMALL)) {
                p.logits(batch, n); // warm: whatever the first call sets up once
                long before = direct.getMemoryUsed();
                int calls = 5;
                for (int i = 0; i < calls; i++) {
                    p.logits(batch, n);
                }
                long grown = direct.getMemoryUsed() - before;
                assertTrue(grown < batch.length * 4L, calls + " predictions left " + grown + " bytes of direct buffers (a batch is "
                        + batch.length * 4L + ")");
            }
        }
    }
}
