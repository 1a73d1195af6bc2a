package dev.graft.app;

import dev.graft.api.Classifier;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.graft.Images;
import dev.graft.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fastai / Keras habits through the command line: each option runs, composes with the rest, and is recorded. */
class PractitionerOptionsTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    static List<String> tiny(String... more) {
        List<String> a = new ArrayList<>(List.of("--model", "resnet18", "--weights", Shared.path("fixtures/torchvision/resnet18_seed0.pth").toString(),
                "--per-class", "8", "--test-per-class", "4", "--image-size", "64", "--batch-size", "4"));
        a.addAll(List.of(more));
        return a;
    }

    static String run(List<String> head, List<String> args) {
        List<String> all = new ArrayList<>(head);
        all.addAll(args);
        return TrainCommandTest.run(all.toArray(new String[0]));
    }

    @Test
    void lrFindSweepsExponentiallyStopsAt4xTheBestAndTrainUsesItsSuggestion() throws Exception {
        Path out = tmp.resolve("sweep");
        String res = run(List.of("lr-find", "--recipe", "book", "--data", Shared.hotdog().toString(), "--out", out.toString()), tiny());
        assertTrue(res.startsWith("0\n") && res.contains("lr-find: suggested mean-loss learning rate"), res);
        JsonNode j = JSON.readTree(out.resolve("lr-find.json").toFile());
        JsonNode lrs = j.get("lrs");
        JsonNode losses = j.get("losses");
        int n = lrs.size();
        assertEquals(n, j.get("steps").asInt());
        assertEquals(1e-7, lrs.get(0).asDouble(), 1e-12);
        double ratio = Math.pow(10 / 1e-7, 1 / 99.0);
        for (int i = 1; i < n; i++) {
            assertEquals(ratio, lrs.get(i).asDouble() / lrs.get(i - 1).asDouble(), 1e-6, "step " + i);
        }
        double best = Double.POSITIVE_INFINITY;
        for (int i = 0; i < n - 1; i++) {
            best = Math.min(best, losses.get(i).asDouble());
            assertTrue(losses.get(i).asDouble() <= 4 * best, "the sweep went on past 4x the best loss at step " + i);
        }
        double last = losses.get(n - 1).asDouble();
        assertTrue(n == 100 || !Double.isFinite(last) || last > 4 * Math.min(best, last), "stopped early without cause at " + n);
        double s = j.get("suggested_mean_loss_lr").asDouble();
        assertTrue(s >= lrs.get(0).asDouble() && s <= lrs.get(n - 1).asDouble(), "suggestion inside the sweep: " + s);
        assertEquals(s / 4, j.get("suggested_recipe_lr").asDouble(), 1e-12, "the book's summed loss at batch 4: lr / 4");
        assertTrue(Files.readString(out.resolve("lr-find.html")).contains("data:image/png;base64,"));

        Path run = tmp.resolve("train");
        res = run(List.of("train", "--recipe", "book", "--data", Shared.hotdog().toString(), "--lr", "find", "--epochs", "1",
                "--out", run.toString()), tiny());
        assertTrue(res.startsWith("0\n"), res);
        JsonNode cfg = JSON.readTree(run.resolve("config.json").toFile());
        assertEquals(cfg.at("/lrFind/recipeLr").asDouble(), cfg.at("/recipe/optimization/lr").asDouble(), 1e-15, "the run uses the suggestion");
        assertTrue(cfg.at("/recipe/name").asText().endsWith("+custom"));
        JsonNode model = JSON.readTree(run.resolve("model.json").toFile());
        assertEquals(cfg.at("/recipe/optimization/lr").asDouble(), model.at("/lr_find/recipe_lr").asDouble(), 1e-15, "recorded in the bundle");
        assertTrue(Files.exists(run.resolve("lr-find.html")));
        String probe = run(List.of("lr-find", "--mode", "probe", "--data", Shared.hotdog().toString(), "--out", tmp.resolve("p").toString()), tiny());
        assertTrue(probe.startsWith("1\n") && probe.contains("--mode probe fits its head in closed form"), probe);
    }

    @Test
    void oneCycleFreezeEpochsLayeredRatesRegularisersClassWeightsAndTtaComposeInOneRun() throws Exception {
        Path out = tmp.resolve("all");
        String res = run(List.of("train", "--recipe", "book", "--data", Shared.hotdog().toString(), "--epochs", "2",
                "--schedule", "one-cycle", "--freeze-epochs", "1", "--lr-groups", "3", "--lr-min-ratio", "0.01", "--label-smoothing", "0.1",
                "--mixup", "0.4", "--cutmix", "1.0", "--class-weights", "balanced", "--momentum", "0.9", "--tta", "2", "--out", out.toString()), tiny());
        assertTrue(res.startsWith("0\n"), res);
        assertTrue(res.contains("the head trains alone for 1 epoch(s)") && res.contains("unfreezing the body"), res);
        assertTrue(res.contains("schedule=one-cycle") && res.contains("label_smoothing=0.1") && res.contains("mixup=0.4")
                && res.contains("cutmix=1.0") && res.contains("class_weights=balanced") && res.contains("lr_groups=3"), res);
        JsonNode m = JSON.readTree(out.resolve("metrics.json").toFile());
        assertTrue(m.get("test_acc_tta").isNumber(), "TTA accuracy next to the plain one");
        assertEquals(2, m.get("tta_views").asInt());
        JsonNode model = JSON.readTree(out.resolve("model.json").toFile());
        assertEquals("ONE_CYCLE", model.at("/recipe/schedule/shape").asText());
        assertEquals(1, model.at("/recipe/schedule/freezeEpochs").asInt());
        assertTrue(model.at("/results/test_acc_tta").isNumber());
        String report = Files.readString(out.resolve("report.html"));
        assertTrue(report.contains("with test-time augmentation (2 views)"), "the report shows TTA");
        // predict takes the views: its numbers are 1/4 of the plain prediction and 3/4 of the views' mean (computed
        // here from the views through the plain prediction path), and differ from the plain prediction
        Path photo = Shared.hotdog().resolve("test/hotdog/b1d13254d61f.jpg");
        String pred = TrainCommandTest.run("predict", "--model", out.toString(), "--tta", "2", "--json", "--top-k", "2", "--precision", "fp32",
                photo.toString());
        String plainOut = TrainCommandTest.run("predict", "--model", out.toString(), "--json", "--top-k", "2", "--precision", "fp32", photo.toString());
        assertTrue(pred.startsWith("0\n") && plainOut.startsWith("0\n"), pred + plainOut);
        float[] tta = probabilities(pred);
        float[] plain = probabilities(plainOut);
        try (Classifier c = Classifier.load(out, dev.graft.data.ImageDecoder.DEFAULT_MAX_PIXELS, dev.graft.model.nn.Precision.FP32)) {
            dev.graft.data.RgbImage img = c.decode(photo);
            dev.graft.data.Preprocessing pre = c.preprocessing();
            int floats = dev.graft.data.Transforms.size(pre);
            float[] mean = new float[2];
            for (int k = 0; k < 2; k++) {
                float[] x = new float[floats];
                dev.graft.model.Predictor.ttaView(pre, k).apply(img, null, x, 0);
                float[] v = c.predictor().probabilities(x, 1)[0];
                mean[0] += v[0] / 2;
                mean[1] += v[1] / 2;
            }
            for (int i = 0; i < 2; i++) {
                assertEquals(0.75f * mean[i] + 0.25f * plain[i], tta[i], 1e-5f, "predict --tta 2, class " + i);
            }
        }
        assertTrue(Math.abs(tta[0] - plain[0]) > 1e-4, "the views change the answer: " + tta[0] + " vs " + plain[0]);
    }

    /** p per class index from predict --json output (one image). */
    static float[] probabilities(String output) throws Exception {
        String line = output.lines().filter(l -> l.startsWith("{")).findFirst().orElseThrow();
        float[] p = new float[2];
        for (JsonNode n : JSON.readTree(line).get("predictions")) {
            p[n.get("index").asInt()] = (float) n.get("probability").asDouble();
        }
        return p;
    }

    /**
     * MixUp, balanced class weights and label smoothing change what is trained: each gives other weights than the
     * same run without it (and the same run twice gives the same weights, so the difference is the option's).
     */
    @Test
    void mixupClassWeightsAndLabelSmoothingChangeTheTrainedWeights() throws Exception {
        // 12 hot dogs and 4 others: balanced class weights are 2/3 and 2, not 1
        Path data = tmp.resolve("imbalanced");
        Images.link(Shared.hotdog().resolve("train/hotdog"), data.resolve("hotdog"), 12);
        Images.link(Shared.hotdog().resolve("train/not-hotdog"), data.resolve("not-hotdog"), 4);
        java.util.Map<String, byte[]> weights = new java.util.LinkedHashMap<>();
        for (String[] variant : List.of(new String[] {"plain"}, new String[] {"again"}, new String[] {"mixup", "--mixup", "0.4"},
                new String[] {"class-weights", "--class-weights", "balanced"}, new String[] {"label-smoothing", "--label-smoothing", "0.1"})) {
            Path out = tmp.resolve(variant[0]);
            List<String> args = new ArrayList<>(List.of("train", "--recipe", "book", "--data", data.toString(), "--epochs", "1", "--model", "resnet18",
                    "--weights", Shared.path("fixtures/torchvision/resnet18_seed0.pth").toString(), "--image-size", "64", "--batch-size", "4",
                    "--lr", "1e-3", "--seed", "1", "--precision", "fp32", "--out", out.toString()));
            args.addAll(List.of(variant).subList(1, variant.length));
            String res = TrainCommandTest.run(args.toArray(new String[0]));
            assertTrue(res.startsWith("0\n"), res);
            weights.put(variant[0], Files.readAllBytes(out.resolve("weights.safetensors")));
        }
        assertTrue(java.util.Arrays.equals(weights.get("plain"), weights.get("again")), "the same run twice trains the same weights");
        List<String> idle = List.of("mixup", "class-weights", "label-smoothing").stream()
                .filter(o -> java.util.Arrays.equals(weights.get("plain"), weights.get(o))).toList();
        assertEquals(List.of(), idle, "options that changed nothing that was trained");
    }

    @Test
    void csvLabelsAndTheImbalanceWarning() throws Exception {
        // 12 hot dogs and 3 others listed in a CSV beside no images, by absolute paths: the user names the folder they may
        // come from with --data (without it, files outside the CSV's folder are refused)
        StringBuilder csv = new StringBuilder("image,label\n");
        List<Path> hot = files("train/hotdog", 12);
        List<Path> not = files("train/not-hotdog", 3);
        hot.forEach(p -> csv.append(p.toAbsolutePath()).append(",hotdog\n"));
        not.forEach(p -> csv.append('"').append(p.toAbsolutePath()).append("\",other\n"));
        files("test/hotdog", 3).forEach(p -> csv.append(p.toAbsolutePath()).append(",hotdog\n"));
        Path labels = Files.writeString(tmp.resolve("labels.csv"), csv.toString());
        Path out = tmp.resolve("csv");
        String outside = TrainCommandTest.run("train", "--recipe", "book", "--labels", labels.toString(), "--out", out.toString());
        assertTrue(outside.startsWith("1\n") && outside.contains("labels.csv line 2: ") && outside.contains("is outside the CSV's folder")
                && !outside.contains("\tat ") && !Files.exists(out), outside);
        String res = TrainCommandTest.run("train", "--recipe", "book", "--labels", labels.toString(), "--data", Shared.hotdog().toString(),
                "--epochs", "1", "--model", "resnet18",
                "--weights", Shared.path("fixtures/torchvision/resnet18_seed0.pth").toString(), "--image-size", "64", "--batch-size", "4",
                "--test-split", "0.2", "--out", out.toString());
        assertTrue(res.startsWith("0\n"), res);
        assertTrue(res.contains("holding out") && res.contains("as the test set"), res);
        assertTrue(res.contains("imbalanced") && res.contains("--class-weights balanced"), "the 1:3+ warning names the option: " + res);
        JsonNode model = JSON.readTree(out.resolve("model.json").toFile());
        assertEquals("[\"hotdog\",\"other\"]", model.get("labels").toString());
        JsonNode cfg = JSON.readTree(out.resolve("config.json").toFile());
        assertEquals(labels.toAbsolutePath(), Path.of(java.net.URI.create(cfg.get("labels").asText())), "the labels file is part of the run's config");
        // a bad row stops the run before anything is written, naming the line
        Path bad = Files.writeString(tmp.resolve("bad.csv"), "file,label\n" + hot.get(0).toAbsolutePath() + ",hotdog\n" + hot.get(1).toAbsolutePath() + "\n");
        String err = TrainCommandTest.run("train", "--labels", bad.toString(), "--data", Shared.hotdog().toString(), "--out", tmp.resolve("bad").toString());
        assertTrue(err.startsWith("1\n") && err.contains("bad.csv line 3") && !err.contains("\tat "), err);
    }

    @Test
    void oneFolderOfClassesHoldsOutATestSetBySeed() throws Exception {
        Path data = tmp.resolve("flat");
        Images.link(Shared.hotdog().resolve("train/hotdog"), data.resolve("hotdog"), 10);
        Images.link(Shared.hotdog().resolve("train/not-hotdog"), data.resolve("not-hotdog"), 10);
        Path out = tmp.resolve("flat-run");
        String res = TrainCommandTest.run("train", "--recipe", "book", "--data", data.toString(), "--epochs", "1", "--model", "resnet18",
                "--weights", Shared.path("fixtures/torchvision/resnet18_seed0.pth").toString(), "--image-size", "64", "--batch-size", "4",
                "--out", out.toString());
        assertTrue(res.startsWith("0\n"), res);
        assertTrue(res.contains("holding out 4 image(s), 20% of each class, as the test set (--test-split 0.20, --split-seed 0)"), res);
        JsonNode model = JSON.readTree(out.resolve("model.json").toFile());
        assertEquals(16, model.at("/data/train_size").asInt());
        assertEquals(4, model.at("/data/test_size").asInt());
    }

    @Test
    void predictExplainWritesAHeatMapPerImage() throws Exception {
        Path dir = tmp.resolve("cams");
        Path a = Shared.hotdog().resolve("test/hotdog/b1d13254d61f.jpg");
        List<Path> two = files("test/not-hotdog", 1);
        String res = TrainCommandTest.run("predict", "--model", TinyBundle.get().toString(), "--explain", dir.toString(), a.toString(),
                two.get(0).toString(), a.toString());
        assertTrue(res.startsWith("0\n") && res.contains("Grad-CAM heat maps in"), res);
        try (Stream<Path> s = Files.list(dir)) {
            List<String> names = s.map(p -> p.getFileName().toString()).sorted().toList();
            assertEquals(3, names.size(), names.toString());
            assertTrue(names.contains("b1d13254d61f.gradcam.png") && names.contains("b1d13254d61f-2.gradcam.png"), names.toString());
        }
        BufferedImage img = ImageIO.read(dir.resolve("b1d13254d61f.gradcam.png").toFile());
        assertEquals(64, img.getWidth(), "the image as the model saw it (the bundle's 64-pixel crop)");
        assertEquals(64, img.getHeight());
    }

    private static List<Path> files(String dir, int n) throws Exception {
        try (Stream<Path> s = Files.list(Shared.hotdog().resolve(dir))) {
            return s.sorted().limit(n).toList();
        }
    }
}
