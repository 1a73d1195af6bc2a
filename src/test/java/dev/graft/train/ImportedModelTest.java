package dev.graft.train;

import ai.djl.ndarray.NDManager;
import dev.graft.Shared;
import dev.graft.data.ImageFolder;
import dev.graft.data.Preprocessing;
import dev.graft.model.Backbone;
import dev.graft.model.KerasGraph;
import dev.graft.model.Layers;
import dev.graft.model.Network;
import dev.graft.model.Torch;
import dev.graft.weights.TensorData;
import dev.graft.weights.Zoo;
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
        return Backbone.load(Zoo.get("mobilenet_v1_0.75"), Shared.path("models/keras-mobilenet_v1_0.75_224"), null, true,
                null, s -> { });
    }

    @Test
    void preprocessingTravelsWithTheWeights() {
        Backbone b = mobilenet();
        assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f}, b.preprocessing().mean());
        assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f}, b.preprocessing().std());
        assertEquals("hotdog, hot dog, red hot", b.sourceLabels().get(934));
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
            String msg = FineTuning.initHeadFromSource(net, b, classes, log::add);
            float[] w = net.stateDict().get("head.weight").toFloats();
            KerasGraph.SourceClassifier src = b.classifier();
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
            link(Shared.hotdog().resolve(split + "/hotdog"), root.resolve(split + "/hotdog"), 6);
            link(Shared.hotdog().resolve(split + "/not-hotdog"), root.resolve(split + "/tabby"), 6);
        }
        Backbone b = mobilenet();
        try (NDManager m = Torch.newManager()) {
            Network net = b.newNetwork(2, new Layers(m));
            b.copyBody(net);
            ImageFolder.Splits s = ImageFolder.book(root);
            Recipe r = Recipe.book(Recipe.Mode.FINETUNE, 1);
            Trainer.Data d = new Trainer.Data(s.train(), null, s.test(), new Preprocessing(146, false, 128, b.preprocessing().mean(), b.preprocessing().std()));
            String z = FineTuning.zeroShot(net, b, s.train().classes(), d, TrainOptions.defaults(x -> { }), new dev.graft.data.BadImages(x -> { }), r);
            assertNotNull(z);
            double acc = Double.parseDouble(z);
            assertTrue(acc > 0.5, "the source model tells hot dogs from cats zero-shot: " + acc);
        }
    }

    static void link(Path from, Path to, int n) throws Exception {
        Files.createDirectories(to);
        try (var files = Files.list(from)) {
            for (Path f : files.sorted().limit(n).toList()) {
                Files.createSymbolicLink(to.resolve(f.getFileName()), f.toAbsolutePath());
            }
        }
    }

    @Test
    void frozenMobilenetBodyStaysBitIdentical() {
        Backbone b = mobilenet();
        try (NDManager m = Torch.newManager()) {
            Network net = b.newNetwork(2, new Layers(m));
            b.copyBody(net);
            net.initHeadXavier(2);
            Map<String, TensorData> before = Trainer.snapshotBody(net);
            float[] head = net.stateDict().get("head.weight").toFloats();
            ImageFolder.Splits s = ImageFolder.book(Shared.hotdog());
            Recipe r = new Recipe("t", Recipe.Mode.FROZEN, 1, 8, 1e-3, 10, 1e-3, 0.9, Recipe.Reduction.SUM, Recipe.Schedule.CONSTANT,
                    0, true, 0.08, 0, Recipe.HeadInit.XAVIER, 0.1, false, 1);
            Trainer.Data d = new Trainer.Data(s.train().subset(8, 1), null, null,
                    new Preprocessing(146, false, 128, b.preprocessing().mean(), b.preprocessing().std()));
            new Trainer(net, r, d, TrainOptions.defaults(x -> { }), List.of()).fit();
            Map<String, TensorData> after = Trainer.snapshotBody(net);
            assertTrue(before.containsKey("conv1_bn/moving_mean"));
            for (String k : before.keySet()) {
                assertEquals(before.get(k).bytes(), after.get(k).bytes(), k);
            }
            assertNotEquals(Arrays.toString(head), Arrays.toString(net.stateDict().get("head.weight").toFloats()));
        }
    }
}
