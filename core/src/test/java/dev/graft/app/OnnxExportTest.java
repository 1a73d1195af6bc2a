package dev.graft.app;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.Shared;
import dev.graft.Torchvision;
import dev.graft.data.Preprocessing;
import dev.graft.model.Architecture;
import dev.graft.model.Architectures;
import dev.graft.model.Backbone;
import dev.graft.model.KerasModel;
import dev.graft.model.Network;
import dev.graft.model.OnnxExport;
import dev.graft.model.OnnxRuntimeEngine;
import dev.graft.model.TorchvisionModel;
import dev.graft.model.nn.Layers;
import dev.graft.model.nn.Params;
import dev.graft.model.nn.Torch;
import dev.graft.train.TestBundles;
import dev.graft.util.Json;
import dev.graft.weights.Npy;
import dev.graft.util.AtomicFolder;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code graft export --format onnx} for every architecture {@code graft models} lists and for imported Keras graphs
 * (MobileNet v1 with its real weights, and a {@code --model keras} graph with every Keras layer type graft
 * imports): ONNX Runtime runs the file and computes graft's own logits on the export's example input; a batch of
 * one gives the same row (the batch dimension is dynamic); onnx's checker (full_check) passes; and for the
 * torchvision families torchvision's model, loaded with the same weights, computes the same logits. Weights are
 * random but make every tensor count (BatchNorm statistics and affine maps, biases, layer scales), so a fold or
 * a transposition that is wrong shows. The Python checks run once for all exports at the end (one interpreter).
 * The largest models (ViT-B/16, ConvNeXt-small, EfficientNet-B3, ResNet-50) are tagged slow.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OnnxExportTest {
    static final Set<String> BIG = Set.of("vit_b_16", "convnext_small", "efficientnet_b3", "resnet50");

    @TempDir
    static Path tmp;
    /** Exports made by the tests before, for the Python checks: ONNX folder, and a safetensors one or null. */
    static final Map<Path, Path> EXPORTS = new LinkedHashMap<>();

    static Stream<String> all() {
        List<String> names = new ArrayList<>();
        Architectures.all().stream().filter(a -> a instanceof TorchvisionModel).map(Architecture::name).forEach(names::add);
        names.add("mobilenet_v1_0.75");
        names.add("keras");
        // -Dgraft.onnx.models=keras,resnet18 narrows the run while working on the export
        String only = System.getProperty("graft.onnx.models");
        return names.stream().filter(n -> only == null || List.of(only.split(",")).contains(n));
    }

    static Stream<String> quick() {
        return all().filter(n -> !BIG.contains(n));
    }

    static Stream<String> big() {
        return all().filter(BIG::contains);
    }

    /** The first architecture of each torchvision family (one file behind the registry): torchvision checks these. */
    static boolean familyRepresentative(String name) {
        Architecture a = Architectures.get(name);
        return a instanceof TorchvisionModel && Architectures.all().stream().filter(b -> b.getClass() == a.getClass()).findFirst().get() == a;
    }

    @Order(1)
    @ParameterizedTest(allowZeroInvocations = true)
    @MethodSource("quick")
    void onnxRuntimeComputesGraftsLogits(String name) throws Exception {
        exportAndRun(name);
    }

    @Order(2)
    @Tag("slow")
    @ParameterizedTest(allowZeroInvocations = true)
    @MethodSource("big")
    void onnxRuntimeComputesGraftsLogitsOfTheLargestModels(String name) throws Exception {
        exportAndRun(name);
    }

    @Order(3)
    @Test
    void onnxCheckerAndTorchvisionAgreeWithEveryExport() throws Exception {
        Assumptions.assumeFalse(EXPORTS.isEmpty(), "run with the export tests before it");
        String check = checkOnnx(EXPORTS);
        if (check == null) {
            return;
        }
        assertEquals(EXPORTS.size(), check.lines().filter(l -> l.startsWith("OK (")).count(), check);
        long torchvision = EXPORTS.values().stream().filter(java.util.Objects::nonNull).count();
        assertEquals(torchvision, check.lines().filter(l -> l.contains("<All keys matched successfully>")).count(), check);
    }

    void exportAndRun(String name) throws Exception {
        long t0 = System.nanoTime();
        Path dir = tmp.resolve(name);
        Path bundle = dir.resolve("bundle");
        List<String> labels = List.of("a", "b", "c");
        try (NDManager m = Torch.newManager()) {
            Torch.noGrad(() -> {
                try {
                    writeBundle(name, bundle, labels, m);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        }
        long t1 = System.nanoTime();
        Path onnx = dir.resolve("onnx");
        String res = TrainCommandTest.run("export", "--model", bundle.toString(), "--format", "onnx", "--out", onnx.toString());
        assertTrue(res.startsWith("0\n") && res.contains("opset 17"), res);
        long t2 = System.nanoTime();
        float[] x = Npy.read(onnx.resolve("example_input.npy")).toFloats();
        float[] want = Npy.read(onnx.resolve("example_logits.npy")).toFloats();
        try (OnnxRuntimeEngine e = OnnxRuntimeEngine.load(onnx.resolve("model.onnx"))) {
            assertClose(want, e.logits(x, 2), name + ": ONNX Runtime against graft");
            float[] one = e.logits(Arrays.copyOf(x, x.length / 2), 1);
            assertClose(Arrays.copyOf(want, labels.size()), one, name + ": a batch of one");
            float[] p = e.probabilities(x, 2);
            assertEquals(1.0, p[0] + p[1] + p[2], 1e-5);
            assertEquals(Json.compact(labels), e.metadata().get("labels"));
            assertEquals(Json.read(bundle.resolve("model.json")).path("preprocessing").path("crop").asInt(),
                    OnnxExport.preprocessing(e.metadata()).crop());
        }
        long t3 = System.nanoTime();
        Path st = null;
        if (familyRepresentative(name) && torchAvailable()) {
            st = dir.resolve("safetensors");
            res = TrainCommandTest.run("export", "--model", bundle.toString(), "--format", "safetensors", "--out", st.toString());
            assertTrue(res.startsWith("0\n"), res);
        }
        AtomicFolder.deleteTree(bundle);
        EXPORTS.put(onnx, st);
        System.out.printf("%s: bundle %.1f s, export %.1f s, ONNX Runtime %.1f s, safetensors export %.1f s%n", name,
                (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9, (System.nanoTime() - t3) / 1e9);
    }


    /** A bundle of {@code name} with random weights that make every tensor count, or MobileNet v1's real ones. */
    static void writeBundle(String name, Path dir, List<String> labels, NDManager m) throws IOException {
        Backbone source;
        Network net;
        Preprocessing pre;
        if (name.equals("mobilenet_v1_0.75")) {
            source = Backbone.load(Architectures.get(name), Shared.path("models/keras-mobilenet_v1_0.75_224"), true, null, null, s -> { });
            net = source.newNetwork(labels.size(), new Layers(m));
            source.copyBody(net);
            pre = source.preprocessing();
        } else {
            Architecture arch = name.equals("keras") ? KerasModel.fromTopology("keras", everyKerasLayer(), "classifier") : Architectures.get(name);
            // ViT's position embeddings are for 224x224; the others run at 64 pixels to keep the test quick
            pre = name.equals("keras") ? Preprocessing.minusOneToOne(32)
                    : name.startsWith("vit") ? arch.weights().preprocessing() : arch.weights().preprocessing().withCrop(64);
            source = new Backbone(arch, "test", null, null, List.of(), pre);
            net = source.newNetwork(labels.size(), new Layers(m));
            arch.initScratch(net, 7);
            randomise(net, 11);
        }
        net.initHeadXavier(3);
        TestBundles.write(dir, source, net, labels, pre);
    }

    /**
     * BatchNorm statistics and affine maps away from the identity, LayerNorm affine maps, biases, class tokens and
     * layer scales non-zero: scratch initialisation leaves them trivial, where a wrong fold would not show.
     */
    static void randomise(Network net, long seed) {
        Random r = new Random(seed);
        for (Parameter p : net.namedParameters().values()) {
            float[] v = p.getArray().toFloatArray();
            String n = p.getName();
            int rank = p.getArray().getShape().dimension();
            boolean zero = true;
            for (float f : v) {
                zero &= f == 0;
            }
            for (int i = 0; i < v.length; i++) {
                if (n.equals("running_var")) {
                    v[i] = 0.5f + r.nextFloat();
                } else if (n.equals("running_mean")) {
                    v[i] = (float) (0.1 * r.nextGaussian());
                } else if (rank == 1 && n.equals("weight")) {
                    v[i] = 0.5f + r.nextFloat(); // BatchNorm and LayerNorm scales
                } else if (n.equals("layer_scale")) {
                    v[i] = 0.1f + 0.4f * r.nextFloat();
                } else if (zero) {
                    v[i] = (float) (0.05 * r.nextGaussian()); // biases, class token
                }
            }
            Params.set(p, v);
        }
    }

    /** A Keras functional graph (32x32x3) with every layer type and activation graft imports. */
    static ObjectNode everyKerasLayer() {
        KerasGraphBuilder g = new KerasGraphBuilder(32, 32, 3);
        g.conv("Conv2D", "c1", "in", 8, 3, 2, "same", "relu", true);
        g.layer("BatchNormalization", "bn_unfolded", List.of("c1")).put("epsilon", 1e-3); // reads a ReLU's output: no fold
        g.layer("ReLU", "relu6", List.of("bn_unfolded")).put("max_value", 6.0);
        g.conv("DepthwiseConv2D", "dw", "relu6", 0, 3, 1, "same", "linear", false);
        g.layer("BatchNormalization", "bn_folded", List.of("dw")).put("epsilon", 1e-3);
        g.layer("Activation", "swish", List.of("bn_folded")).put("activation", "swish");
        ObjectNode zp = g.layer("ZeroPadding2D", "pad", List.of("swish"));
        zp.putArray("padding").add(g.pair(1, 0)).add(g.pair(0, 1));
        g.conv("Conv2D", "c2", "pad", 8, 2, 1, "valid", "elu", true);
        g.pool("MaxPooling2D", "max_same", "c2", 3, 2, "same");
        g.pool("AveragePooling2D", "avg_same", "swish", 3, 2, "same");
        g.layer("Add", "add", List.of("max_same", "avg_same"));
        g.layer("ReLU", "leaky", List.of("add")).put("negative_slope", 0.1).put("max_value", 4.0);
        g.layer("Concatenate", "cat", List.of("add", "leaky")).put("axis", -1);
        g.pool("AveragePooling2D", "avg_valid", "cat", 2, 2, "valid");
        g.pool("MaxPooling2D", "max_valid", "avg_valid", 1, 1, "valid");
        List<String> acts = new ArrayList<>();
        for (String a : List.of("linear", "relu", "relu6", "sigmoid", "hard_sigmoid", "tanh", "swish", "silu", "gelu", "elu", "softplus", "softmax")) {
            g.layer("Activation", "act_" + a, List.of("max_valid")).put("activation", a);
            acts.add("act_" + a);
        }
        g.layer("Concatenate", "acts", acts).put("axis", -1); // 4 x 4 x 192
        g.layer("GlobalMaxPooling2D", "gmp", List.of("acts"));
        g.layer("GlobalAveragePooling2D", "gap_keep", List.of("acts")).put("keepdims", true);
        g.layer("Reshape", "flat_reshape", List.of("gap_keep")).putArray("target_shape").add(192);
        g.layer("Flatten", "flatten", List.of("acts"));
        g.layer("Reshape", "unflatten", List.of("flatten")).putArray("target_shape").add(4).add(4).add(-1);
        g.layer("GlobalAveragePooling2D", "gap", List.of("unflatten"));
        g.dense("d_flat", "flatten", "tanh");
        g.dense("d_max", "gmp", "linear");
        g.dense("d_keep", "flat_reshape", "relu");
        g.dense("d_gap", "gap", "sigmoid");
        g.layer("Add", "sum", List.of("d_flat", "d_max", "d_keep", "d_gap"));
        g.layer("Dropout", "dropout", List.of("sum")).put("rate", 0.2);
        g.layer("Dense", "classifier", List.of("dropout")).put("units", 5);
        return g.model("classifier");
    }

    /** Writes Keras 2 functional model_configs, layer by layer. */
    static final class KerasGraphBuilder {
        final ArrayNode layers = Json.MAPPER.createArrayNode();

        KerasGraphBuilder(int h, int w, int c) {
            ObjectNode in = layers.addObject().put("class_name", "InputLayer").put("name", "in");
            in.putObject("config").put("name", "in").putArray("batch_input_shape").addNull().add(h).add(w).add(c);
            in.putArray("inbound_nodes");
        }

        ArrayNode pair(int a, int b) {
            return Json.MAPPER.createArrayNode().add(a).add(b);
        }

        ObjectNode layer(String cls, String name, List<String> inputs) {
            ObjectNode l = layers.addObject().put("class_name", cls).put("name", name);
            ObjectNode cfg = l.putObject("config").put("name", name);
            ArrayNode node = l.putArray("inbound_nodes").addArray();
            for (String i : inputs) {
                node.addArray().add(i).add(0).add(0).addObject();
            }
            return cfg;
        }

        void conv(String cls, String name, String in, int filters, int k, int s, String padding, String act, boolean bias) {
            ObjectNode c = layer(cls, name, List.of(in)).put("padding", padding).put("activation", act).put("use_bias", bias);
            if (filters > 0) {
                c.put("filters", filters);
            } else {
                c.put("depth_multiplier", 1);
            }
            c.set("kernel_size", pair(k, k));
            c.set("strides", pair(s, s));
        }

        void pool(String cls, String name, String in, int k, int s, String padding) {
            ObjectNode c = layer(cls, name, List.of(in)).put("padding", padding);
            c.set("pool_size", pair(k, k));
            c.set("strides", pair(s, s));
        }

        void dense(String name, String in, String act) {
            layer("Dense", name, List.of(in)).put("units", 16).put("activation", act);
        }

        ObjectNode model(String out) {
            ObjectNode m = Json.object().put("class_name", "Model");
            ObjectNode c = m.putObject("config").put("name", "every_layer");
            c.set("layers", layers);
            c.putArray("input_layers").addArray().add("in").add(0).add(0);
            c.putArray("output_layers").addArray().add(out).add(0).add(0);
            return m;
        }
    }

    static boolean torchAvailable() throws Exception {
        try {
            Torchvision.require();
            return true;
        } catch (org.opentest4j.TestAbortedException e) {
            return false;
        }
    }

    private static Boolean onnxAvailable;

    /**
     * tools/check_onnx.py on the exports (with the safetensors export of the same bundle, torchvision's check too);
     * null where Debian's python3-onnx is missing and GRAFT_REQUIRE_ONNX is not set (CI sets it).
     */
    static String checkOnnx(Map<Path, Path> exports) throws Exception {
        if (onnxAvailable == null) {
            onnxAvailable = new ProcessBuilder("/usr/bin/python3", "-c", "import onnx").start().waitFor() == 0;
        }
        if (!onnxAvailable) {
            if (System.getenv("GRAFT_REQUIRE_ONNX") != null) {
                throw new AssertionError("GRAFT_REQUIRE_ONNX is set but /usr/bin/python3 cannot import onnx (apt-get install python3-onnx)");
            }
            System.out.println("python3-onnx is not installed: the ONNX checker is skipped (apt-get install python3-onnx)");
            return null;
        }
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/python3", "tools/check_onnx.py"));
        exports.forEach((onnx, safetensors) -> {
            cmd.add(onnx.toString());
            if (safetensors != null) {
                cmd.addAll(List.of("--torchvision", safetensors.toString()));
            }
        });
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(600, TimeUnit.SECONDS));
        System.out.println(text);
        assertEquals(0, p.exitValue(), text);
        return text;
    }

    /** Relative L2 over the batch at most 1e-4. */
    static void assertClose(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        double num = 0;
        double den = 0;
        for (int i = 0; i < want.length; i++) {
            num += (got[i] - want[i]) * (double) (got[i] - want[i]);
            den += want[i] * (double) want[i];
        }
        double rel = Math.sqrt(num / Math.max(den, 1e-30));
        System.out.printf("%s: relative L2 %.2e (logits %s)%n", what, rel, Arrays.toString(Arrays.copyOf(want, Math.min(3, want.length))));
        assertTrue(den > 0, what + ": the logits are all zero");
        assertTrue(rel <= 1e-4, what + ": relative L2 " + rel);
    }
}
