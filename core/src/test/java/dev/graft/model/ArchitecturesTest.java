package dev.graft.model;

import dev.graft.weights.DownloadException;
import dev.graft.weights.Downloader;
import dev.graft.weights.WeightsSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ArchitecturesTest {
    @TempDir
    Path cache;

    @Test
    void zooKnowsTorchvisionUrlsAndChecksums() {
        WeightsSpec r18 = Architectures.get("resnet18").weights();
        assertEquals("https://download.pytorch.org/models/resnet18-f37072fd.pth", r18.url());
        assertTrue(r18.checksum().matches("f37072fd" + "0".repeat(56)));
        assertEquals("resnet18-f37072fd.pth", r18.cacheName());
        assertTrue(Architectures.get("resnet34").weights().url().endsWith("resnet34-b627a593.pth"));
        assertTrue(Architectures.get("resnet50").weights().url().endsWith("resnet50-0676ba61.pth"));
        Architecture mb = Architectures.get("mobilenet_v1");
        assertTrue(mb instanceof KerasModel);
        assertEquals("mobilenet_v1_1.0", mb.name());
        assertEquals(0.5f, mb.weights().preprocessing().mean()[0]);
        assertTrue(Architectures.get("mobilenet_v1_0.25").weights().url().contains("mobilenet_v1_0.25_224/model.json"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Architectures.get("vgg16"));
        assertTrue(e.getMessage().contains("resnet18"), e.getMessage());
    }

    @Test
    void offlineWithNothingCachedSaysToPassWeights() {
        System.setProperty("graft.offline", "1");
        try {
            Downloader d = new Downloader(cache, s -> { }, false);
            DownloadException e = assertThrows(DownloadException.class,
                    () -> Backbone.load(Architectures.get("resnet18"), null, true, d, null, s -> { }));
            assertTrue(e.getMessage().contains("--weights FILE") && e.getMessage().contains("resnet18-f37072fd.pth"), e.getMessage());
        } finally {
            System.clearProperty("graft.offline");
        }
    }

    @Test
    void scratchNeedsNoDownload() {
        System.setProperty("graft.offline", "1");
        try {
            for (String name : new String[] {"resnet50", "mobilenet_v1_0.25"}) {
                Backbone b = Backbone.load(Architectures.get(name), null, false, new Downloader(cache, s -> { }, false), null, s -> { });
                assertEquals("random init", b.source());
            }
        } finally {
            System.clearProperty("graft.offline");
        }
    }
}
