package dev.graft.app;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** graft bench runs graft's own training loop and prediction path on every kind of model, weights or not. */
class BenchCommandTest {

    @Test
    void benchRunsKerasZooModelsWithoutWeights() {
        for (String mode : new String[] {"train", "infer"}) {
            String res = TrainCommandTest.run("bench", "--model", "mobilenet_v1_0.25", "--mode", mode, "--batch-size", "2",
                    "--image-size", "64", "--iterations", "2", "--warmup", "1", "--precision", "fp32");
            assertTrue(res.startsWith("0\n"), res);
            assertTrue(res.contains("mobilenet_v1_0.25 " + mode + " batch 2 (fp32):") && res.contains("images/s"), res);
        }
    }

    @Test
    void realImageModesNeedData() {
        String res = TrainCommandTest.run("bench", "--mode", "pipeline");
        assertTrue(res.startsWith("1\n") && res.contains("--data DIR"), res);
    }
}
