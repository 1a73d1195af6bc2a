package dev.graft.app;

import dev.graft.api.Classifier;
import ai.djl.training.GradientCollector;
import dev.graft.Shared;
import dev.graft.data.ImageDecoder;
import dev.graft.data.RgbImage;
import dev.graft.model.GradCam;
import dev.graft.model.nn.Precision;
import dev.graft.model.nn.Torch;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Grad-CAM is safe from any thread, as Classifier promises: two classifiers explaining from 8 threads at once, and
 * an explanation while a gradient collector is open elsewhere in the JVM (a training), give exactly the maps of one
 * explanation at a time.
 */
class ConcurrentExplainTest {
    static List<RgbImage> images() throws Exception {
        ImageDecoder dec = new ImageDecoder();
        List<RgbImage> out = new ArrayList<>();
        for (String dir : List.of("test/hotdog", "test/not-hotdog")) {
            try (Stream<Path> s = Files.list(Shared.hotdog().resolve(dir))) {
                for (Path p : s.sorted().limit(3).toList()) {
                    out.add(dec.decode(p));
                }
            }
        }
        return out;
    }

    @Test
    void twoClassifiersExplainingFromEightThreadsGiveTheMapsOfOneAtATime() throws Exception {
        List<RgbImage> imgs = images();
        try (Classifier a = Classifier.load(TinyBundle.get(), ImageDecoder.DEFAULT_MAX_PIXELS, Precision.FP32);
             Classifier b = Classifier.load(TinyBundle.get(), ImageDecoder.DEFAULT_MAX_PIXELS, Precision.FP32)) {
            List<Classifier> both = List.of(a, b);
            // the reference: one explanation at a time, on this thread
            float[][] ref = new float[imgs.size()][];
            for (int i = 0; i < imgs.size(); i++) {
                ref[i] = a.predictor().explain(List.of(imgs.get(i)), null)[0].values();
                assertArrayEquals(ref[i], b.predictor().explain(List.of(imgs.get(i)), null)[0].values(), 0f, "the same model twice");
            }
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<?>> jobs = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    int thread = t;
                    jobs.add(pool.submit(() -> {
                        for (int round = 0; round < 6; round++) {
                            int i = (thread + round) % imgs.size();
                            GradCam.Heat h = both.get((thread + round) % 2).predictor().explain(List.of(imgs.get(i)), null)[0];
                            assertArrayEquals(ref[i], h.values(), 0f, "thread " + thread + ", round " + round + ", image " + i);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : jobs) {
                    f.get(); // rethrows a thread's failure
                }
            } finally {
                pool.shutdownNow();
            }
            // a training elsewhere in the JVM holds DJL's one gradient collector: explaining still works, exactly
            try (GradientCollector training = Torch.engine().newGradientCollector()) {
                ExecutorService other = Executors.newSingleThreadExecutor();
                try {
                    float[] v = other.submit(() -> b.predictor().explain(List.of(imgs.get(0)), null)[0].values()).get();
                    assertArrayEquals(ref[0], v, 0f);
                } finally {
                    other.shutdownNow();
                }
            }
            assertEquals(imgs.size(), ref.length);
        }
    }
}
