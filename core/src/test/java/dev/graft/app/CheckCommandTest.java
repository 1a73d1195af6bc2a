package dev.graft.app;

import com.fasterxml.jackson.databind.JsonNode;
import dev.graft.Images;
import dev.graft.Shared;
import dev.graft.data.DataSplits;
import dev.graft.data.FileHashes;
import dev.graft.data.ImageFolder;
import dev.graft.util.Json;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.geom.AffineTransform;
import java.awt.image.AffineTransformOp;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code graft check} end to end on real hotdog photos (MobileNet v1 with its ImageNet weights) with known faults
 * put in: a not-hotdog photo in the hotdog folder, a byte copy and a link of training photos in the test set, a
 * mirrored re-encoded copy, and a grey placeholder. Then the suggestions round-trip through --labels and --exclude,
 * and a training run leaves out what the user rejected, warns about the leaks and carries the check in its report.
 */
class CheckCommandTest {
    @TempDir
    Path tmp;

    @BeforeEach
    void cache() {
        System.setProperty("graft.home", tmp.resolve("home").toString());
    }

    @AfterEach
    void noCache() {
        System.clearProperty("graft.home");
    }

    static final String WEIGHTS = Shared.path("models/keras-mobilenet_v1_0.75_224").toString();

    /** The faulty set; returns its root. */
    Path faultyData() throws Exception {
        Path root = tmp.resolve("data");
        Path hotdog = Shared.hotdog();
        Images.link(hotdog.resolve("train/hotdog"), root.resolve("train/hotdog"), 10);
        Images.link(hotdog.resolve("train/not-hotdog"), root.resolve("train/not-hotdog"), 10);
        Images.link(hotdog.resolve("test/hotdog"), root.resolve("test/hotdog"), 4);
        Images.link(hotdog.resolve("test/not-hotdog"), root.resolve("test/not-hotdog"), 4);
        List<Path> notHotdog = sorted(hotdog.resolve("train/not-hotdog"));
        Files.createSymbolicLink(root.resolve("train/hotdog/swapped.jpg"), notHotdog.get(20).toAbsolutePath());
        Images.write(root.resolve("train/hotdog/grey.png"), grey(), "png");
        List<Path> trainHotdog = sorted(root.resolve("train/hotdog"));
        Files.copy(trainHotdog.get(0), root.resolve("test/hotdog/copy.jpg"));
        Files.createSymbolicLink(root.resolve("test/hotdog/link.jpg"), trainHotdog.get(1).toRealPath());
        BufferedImage src = ImageIO.read(sorted(root.resolve("train/not-hotdog")).get(0).toFile());
        AffineTransform flip = new AffineTransform(-1, 0, 0, 1, src.getWidth(), 0);
        BufferedImage mirrored = new AffineTransformOp(flip, AffineTransformOp.TYPE_NEAREST_NEIGHBOR).filter(src, null);
        ImageIO.write(mirrored, "jpg", root.resolve("test/not-hotdog/flipped.jpg").toFile());
        return root;
    }

    static BufferedImage grey() {
        BufferedImage g = new BufferedImage(200, 150, BufferedImage.TYPE_INT_RGB);
        java.awt.Graphics2D gr = g.createGraphics();
        gr.setColor(new java.awt.Color(128, 128, 128));
        gr.fillRect(0, 0, 200, 150);
        gr.dispose();
        return g;
    }

    static List<Path> sorted(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    @Test
    void checkFindsEachFaultAndItsSuggestionsRoundTripThroughLabelsAndExclude() throws Exception {
        Path data = faultyData();
        Path out = tmp.resolve("check");
        String res = TrainCommandTest.run("check", "--data", data.toString(), "--model", "mobilenet_v1_0.75", "--weights", WEIGHTS,
                "--out", out.toString());
        assertTrue(res.startsWith("0\n"), res);
        // the leak warning at the start (data layer, issue 21.11): by real path and by content
        assertTrue(res.contains("2 test image(s) are also training images"), res);
        assertTrue(res.contains("test/hotdog/link.jpg = train/hotdog/") && res.contains("(same file)"), res);
        assertTrue(res.contains("test/hotdog/copy.jpg = train/hotdog/") && res.contains("(same bytes)"), res);
        JsonNode c = Json.read(out.resolve("check.json"));

        // the not-hotdog photo labelled hotdog
        JsonNode swapped = find(c.get("label_issues"), "train/hotdog/swapped.jpg");
        assertEquals("hotdog", swapped.get("given").asText());
        assertEquals("not-hotdog", swapped.get("suggested").asText());
        assertTrue(swapped.get("confidence").asDouble() > 0.5, swapped.toString());
        assertTrue(c.get("label_issues").size() <= 2, c.get("label_issues").toString());

        // the byte copy, the link and the mirrored copy, each across train/test
        List<String> pairs = new ArrayList<>();
        for (JsonNode p : c.get("duplicates")) {
            pairs.add(p.get("scope").asText() + " " + p.get("kind").asText() + " " + p.get("first").get("name").asText() + " "
                    + p.get("second").get("name").asText());
        }
        List<Path> trainHotdog = sorted(data.resolve("train/hotdog"));
        assertTrue(pairs.contains("across same_bytes train/hotdog/" + trainHotdog.get(0).getFileName() + " test/hotdog/copy.jpg"), pairs.toString());
        assertTrue(pairs.contains("across same_file train/hotdog/" + trainHotdog.get(1).getFileName() + " test/hotdog/link.jpg"), pairs.toString());
        String first = sorted(data.resolve("train/not-hotdog")).get(0).getFileName().toString();
        assertTrue(pairs.stream().anyMatch(p -> p.startsWith("across near") && p.contains("train/not-hotdog/" + first)
                && p.endsWith("test/not-hotdog/flipped.jpg")), pairs.toString());
        assertEquals(3, pairs.size(), pairs.toString());

        // the grey placeholder
        JsonNode g = find(c.get("outliers"), "train/hotdog/grey.png");
        assertTrue(g.get("blank").asBoolean(), g.toString());
        assertTrue(g.get("pixel_spread").asDouble() < 0.001, g.toString());

        String html = Files.readString(out.resolve("check.html"));
        assertTrue(html.contains("Likely label errors") && html.contains("swapped.jpg") && html.contains("data:image/jpeg;base64,"), "check.html");

        // suggestions.csv is the whole set in the --labels format: passed back it is the same images, labels and splits
        Path csv = out.resolve("suggestions.csv");
        List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
        assertEquals("file,label,split,action,issue,suggested_label,confidence,detail", lines.get(0));
        DataSplits given = DataSplits.load(data, 0, 0, 0, 1, m -> { });
        DataSplits back = DataSplits.load(new DataSplits.Source(data, csv, 0, 0), 0, 0, 0, 1, m -> { });
        assertEquals(rows(given.train()), rows(back.train()));
        assertEquals(rows(given.test()), rows(back.test()));
        assertEquals(given.classes(), back.classes());

        // the user accepts the suggested label and rejects the placeholder
        List<String> edited = new ArrayList<>();
        for (String l : lines) {
            if (l.startsWith("../data/train/hotdog/swapped.jpg,")) {
                l = l.replace("../data/train/hotdog/swapped.jpg,hotdog,", "../data/train/hotdog/swapped.jpg,not-hotdog,");
            } else if (l.startsWith("../data/train/hotdog/grey.png,hotdog,train,,")) {
                l = l.replace("grey.png,hotdog,train,,", "grey.png,hotdog,train,exclude,");
            }
            edited.add(l);
        }
        Files.write(csv, edited, StandardCharsets.UTF_8);
        DataSplits fixed = DataSplits.load(new DataSplits.Source(data, csv, 0, 0, csv), 0, 0, 0, 1, m -> { });
        Set<String> fixedRows = rows(fixed.train());
        assertFalse(fixedRows.stream().anyMatch(r -> r.contains("grey.png")), fixedRows.toString());
        assertTrue(fixedRows.stream().anyMatch(r -> r.contains("swapped.jpg") && r.endsWith(" not-hotdog")), fixedRows.toString());
        assertEquals(given.train().size() - 1, fixed.train().size());
        assertTrue(Files.exists(data.resolve("train/hotdog/grey.png")), "never deleted");

        // again: every feature from the cache train shares
        String again = TrainCommandTest.run("check", "--data", data.toString(), "--model", "mobilenet_v1_0.75", "--weights", WEIGHTS,
                "--out", out.toString(), "--overwrite");
        assertTrue(again.contains("features: " + (given.train().size() + given.test().size()) + " image(s) from the cache, 0 computed"), again);
    }

    @Test
    void trainLeavesOutTheRejectedFilesAndReportsTheCheck() throws Exception {
        Path data = faultyData();
        Path rejected = Files.writeString(tmp.resolve("rejected.txt"), "data/train/hotdog/grey.png\n");
        Path run = tmp.resolve("run");
        String res = TrainCommandTest.run("train", "--data", data.toString(), "--model", "mobilenet_v1_0.75", "--weights", WEIGHTS,
                "--epochs", "1", "--image-size", "128", "--exclude", rejected.toString(), "--out", run.toString());
        assertTrue(res.startsWith("0\n"), res);
        assertTrue(res.contains("data: leaving out 1 image(s) listed in " + rejected + " (--exclude): 1 training, 0 test"), res);
        assertTrue(res.contains("2 test image(s) are also training images"), res);
        assertTrue(res.contains("data check: 1 likely label error(s)") || res.contains("data check: 2 likely label error(s)"), res);
        JsonNode m = Json.read(run.resolve("metrics.json"));
        JsonNode dc = m.get("data_check");
        assertTrue(find(dc.get("label_issues"), "train/hotdog/swapped.jpg") != null);
        assertEquals(3, dc.get("duplicates").size(), dc.get("duplicates").toString());
        String html = Files.readString(run.resolve("report.html"));
        assertTrue(html.contains("<h2>Data check</h2>") && html.contains("swapped.jpg") && !html.contains("grey.png"), "report.html");
        JsonNode cfg = Json.read(run.resolve("config.json"));
        assertEquals(rejected.toAbsolutePath(), Path.of(java.net.URI.create(cfg.get("exclude").asText())).toAbsolutePath());
    }

    static JsonNode find(JsonNode list, String name) {
        for (JsonNode n : list) {
            if (n.get("name").asText().equals(name)) {
                return n;
            }
        }
        throw new AssertionError(name + " not in " + list);
    }

    static Set<String> rows(ImageFolder f) {
        Set<String> out = new TreeSet<>();
        for (ImageFolder.Sample s : f.samples()) {
            out.add(FileHashes.realPath(s.path()) + " " + s.path().getFileName() + " " + f.classes().get(s.label()));
        }
        return out;
    }
}
