package dev.graft.weights;

import dev.graft.model.Backbone;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ZooTest {
    @TempDir
    Path cache;

    @Test
    void zooKnowsTorchvisionUrlsAndChecksums() {
        WeightsSpec r18 = Zoo.get("resnet18");
        assertEquals("https://download.pytorch.org/models/resnet18-f37072fd.pth", r18.url());
        assertTrue(r18.checksum().matches("f37072fd" + "0".repeat(56)));
        assertEquals("resnet18-f37072fd.pth", r18.cacheName());
        assertTrue(Zoo.get("resnet34").url().endsWith("resnet34-b627a593.pth"));
        assertTrue(Zoo.get("resnet50").url().endsWith("resnet50-0676ba61.pth"));
        WeightsSpec mb = Zoo.get("mobilenet_v1");
        assertEquals("keras", mb.architecture());
        assertEquals(0.5f, mb.preprocessing().mean()[0]);
        assertTrue(Zoo.get("mobilenet_v1_0.25").url().contains("mobilenet_v1_0.25_224/model.json"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Zoo.get("vgg16"));
        assertTrue(e.getMessage().contains("resnet18"), e.getMessage());
    }

    @Test
    void offlineWithNothingCachedSaysToPassWeights() {
        System.setProperty("graft.offline", "1");
        try {
            Downloader d = new Downloader(cache, s -> { }, false);
            DownloadException e = assertThrows(DownloadException.class,
                    () -> Backbone.load(Zoo.get("resnet18"), null, d, true, null, s -> { }));
            assertTrue(e.getMessage().contains("--weights FILE") && e.getMessage().contains("resnet18-f37072fd.pth"), e.getMessage());
        } finally {
            System.clearProperty("graft.offline");
        }
    }

    @Test
    void scratchNeedsNoDownloadForResNets() {
        System.setProperty("graft.offline", "1");
        try {
            Backbone b = Backbone.load(Zoo.get("resnet50"), null, new Downloader(cache, s -> { }, false), false, null, s -> { });
            assertEquals("random init", b.source());
        } finally {
            System.clearProperty("graft.offline");
        }
    }
}
