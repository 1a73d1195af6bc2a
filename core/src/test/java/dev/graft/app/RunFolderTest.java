package dev.graft.app;

import dev.graft.Images;
import dev.graft.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The run folder: never among the images (real paths, not spellings). */
class RunFolderTest {
    @TempDir
    Path tmp;

    static List<String> trainArgs(Path data, Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--recipe", "book", "--data", data.toString(), "--model", "resnet18",
                "--weights", Shared.path("fixtures/torchvision/resnet18_seed0.pth").toString(), "--epochs", "1", "--batch-size", "2",
                "--image-size", "32", "--workers", "1", "--out", out.toString()));
        a.addAll(List.of(more));
        return a;
    }

    static String train(List<String> args) {
        return TrainCommandTest.run(args.toArray(new String[0]));
    }

    @Test
    void anOutFolderInsideTheDataIsRefusedWhateverSymbolicLinksLeadThere() throws Exception {
        Path data = Images.dataset(tmp.resolve("data"), new String[] {"cat", "dog"}, 2, 1);
        // --out through a link to the data folder
        Path link = Files.createSymbolicLink(tmp.resolve("link"), data);
        String res = train(trainArgs(data, link.resolve("out")));
        assertTrue(res.startsWith("1\n") && res.contains("inside the data folder"), res);
        assertFalse(Files.exists(data.resolve("out")), "nothing written among the images");
        // the data named through a link, --out its real folder
        res = train(trainArgs(link, data.resolve("train/out")));
        assertTrue(res.startsWith("1\n") && res.contains("inside the data folder"), res);
        assertFalse(Files.exists(data.resolve("train/out")));
        // a link inside --out's parents that points into the data
        Files.createDirectories(tmp.resolve("runs"));
        Path runs = Files.createSymbolicLink(tmp.resolve("runs/latest"), data.resolve("test"));
        res = train(trainArgs(data, runs.resolve("a/b")));
        assertTrue(res.startsWith("1\n") && res.contains("inside the data folder"), res);
        assertFalse(Files.exists(data.resolve("test/a")));
    }
}
