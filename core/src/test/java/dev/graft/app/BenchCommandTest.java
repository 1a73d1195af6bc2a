package dev.graft.app;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

    @Test
    void benchSaysWhetherTheAllocatorAskedForHugePages() {
        // what the launcher sets (./graft; .ci/run checks the launcher itself), and what it leaves out when told to
        assertEquals("requested", BenchCommand.hugePages(Map.of("MALLOC_CONF", "dirty_decay_ms:-1,muzzy_decay_ms:-1,thp:always")));
        assertEquals("requested", BenchCommand.hugePages(Map.of("GLIBC_TUNABLES", "glibc.malloc.tcache_count=0:glibc.malloc.hugetlb=1")));
        assertEquals("not requested", BenchCommand.hugePages(Map.of("MALLOC_CONF", "dirty_decay_ms:-1,muzzy_decay_ms:-1")));
        assertEquals("not requested", BenchCommand.hugePages(Map.of("MALLOC_CONF", "thp:never", "GLIBC_TUNABLES", "glibc.malloc.hugetlb=0")));
        assertEquals("not requested", BenchCommand.hugePages(Map.of()));
    }
}
