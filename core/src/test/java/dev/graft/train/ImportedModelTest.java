package dev.graft.train;

import ai.djl.ndarray.NDManager;
import dev.graft.Images;
import dev.graft.Shared;
import dev.graft.data.DataSplits;
import dev.graft.data.ImageFolder;
import dev.graft.model.Architectures;
import dev.graft.model.Backbone;
import dev.graft.model.Network;
import dev.graft.model.nn.Layers;
import dev.graft.model.nn.Torch;
import dev.graft.weights.SourceClassifier;
import dev.graft.weights.TensorData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Head surgery, source-class init, zero-shot and frozen mode on the imported Keras MobileNet. */
class ImportedModelTest {
    @TempDir
    Path tmp;

    static Backbone mobilenet() {
        return Backbone.load(Architectures.get("mobilenet_v1_0.75"), Shared.path("models/keras-mobilenet_v1_0.75_224"), true,
                null, null, s -> { });
    }

    @Test
    void preprocessingTravelsWithTheWeights() {
        Backbone b = mobilenet();
        assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f}, b.preprocessing().mean());
        assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f}, b.preprocessing().std());
        assertEquals("hotdog, hot dog, red hot", b.labels().get(934));
    }

    @Test
    void sourceClassHeadInitCopiesTheMatchingRowAndKeepsXavierElsewhere() {
        Backbone b = mobilenet();
        List<String> classes = List.of("hotdog", "not-hotdog");
        assertArrayEquals(new int[] {934, -1}, b.matchClasses(classes));
        List<String> log = new ArrayList<>();
        try (NDManager m = Torch.newManager()) {
            Network net = b.newNetwork(2, new Layers(m));
            b.copyBody(net);
            net.initHeadXavier(1);
            float[] xavierRow1 = Arrays.copyOfRange(net.stateDict().get("head.weight").toFloats(), 768, 1536);
            String msg = NewHead.sourceClass(net, b, classes, log::add);
            float[] w = net.stateDict().get("head.weight").toFloats();
            SourceClassifier src = b.classifier();
            assertArrayEquals(Arrays.copyOfRange(src.weight(), 934 * 768, 935 * 768), Arrays.copyOfRange(w, 0, 768));
            assertEquals(src.bias()[934], net.stateDict().get("head.bias").toFloats()[0]);
            assertArrayEquals(xavierRow1, Arrays.copyOfRange(w, 768, 1536));
            assertTrue(log.get(0).contains("hotdog <- hotdog, hot dog, red hot") && log.get(0).contains("not-hotdog <- no source class"), log.toString());
            assertTrue(msg.startsWith("source-class"));
        }
    }

    @Test
    void zeroShotAccuracyIsReportedWhenEveryClassMaps() throws Exception {
        // classes named after ImageNet classes: "hotdog" and "tabby" (the not-hotdog photos are mostly pets)
        Path root = tmp.resolve("data");
        for (String split : new String[] {"train", "test"}) {
            Images.link(Shared.hotdog().resolve(split + "/hotdog"), root.resolve(split + "/hotdog"), 6);
            Images.link(Shared.hotdog().resolve(split + "/not-hotdog"), root.resolve(split + "/tabby"), 6);
        }
        Backbone b = mobilenet();
        try (NDManager m = Torch.newManager()) {
            Network net = b.newNetwork(2, new Layers(m));
            b.copyBody(net);
            ImageFolder.Splits s = ImageFolder.book(root);
            DataSplits d = new DataSplits(s.train(), null, s.test());
            String z = ZeroShot.measure(b, d, () -> FeatureSet.compute(net, d.test(), b.preprocessing().withCrop(128),
                    TrainOptions.defaults(x -> { }), new dev.graft.data.BadImages(x -> { })));
            assertNotNull(z);
            double acc = Double.parseDouble(z);
            assertTrue(acc > 0.5, "the source model tells hot dogs from cats zero-shot: " + acc);
        }
    }

    @Test
    void frozenMobilenetBodyStaysBitIdentical() {
        Backbone b = mobilenet();
        try (NDManager m = Torch.newManager()) {
            Network net = b.newNetwork(2, new Layers(m));
            b.copyBody(net);
            net.initHeadXavier(2);
            Map<String, TensorData> before = Fixtures.snapshotBody(net);
            float[] head = net.stateDict().get("head.weight").toFloats();
            Recipe r = Fixtures.recipe(Recipe.Mode.FROZEN, 1, 8).lr(1e-3).momentum(0.9).build();
            Fixtures.fit(net, r, Fixtures.subset(8, 0), b.preprocessing().withCrop(128), Fixtures.quiet(), List.of());
            Map<String, TensorData> after = Fixtures.snapshotBody(net);
            assertTrue(before.containsKey("conv1_bn/moving_mean"));
            for (String k : before.keySet()) {
                assertEquals(before.get(k).bytes(), after.get(k).bytes(), k);
            }
            assertNotEquals(Arrays.toString(head), Arrays.toString(net.stateDict().get("head.weight").toFloats()));
        }
    }
}
