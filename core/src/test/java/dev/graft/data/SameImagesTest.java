package dev.graft.data;

import dev.graft.Images;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The same image in train and test through a link or a copy: found by real path and content, named at the start of a run. */
class SameImagesTest {
    @TempDir
    Path root;

    @Test
    void linkAndCopyAcrossSplitsAreNamedInTheWarning() throws Exception {
        Images.dataset(root, new String[] {"a", "b"}, 3, 2);
        // test/a/link.jpg is train/a/a_0.jpg through a symlink; test/b/copy.jpg has train/b/b_1.jpg's bytes
        Files.createSymbolicLink(root.resolve("test/a/link.jpg"), root.resolve("train/a/a_0.jpg").toAbsolutePath());
        Files.copy(root.resolve("train/b/b_1.jpg"), root.resolve("test/b/copy.jpg"));
        List<String> log = new ArrayList<>();
        DataSplits s = DataSplits.load(root, 0, 0, 0, 1, log::add);
        List<SameImages.Leak> leaks = SameImages.acrossSplits(s);
        assertEquals(2, leaks.size(), leaks.toString());
        assertEquals(root.resolve("test/a/link.jpg"), leaks.get(0).test().path());
        assertEquals(root.resolve("train/a/a_0.jpg"), leaks.get(0).train().path());
        assertTrue(leaks.get(0).sameFile());
        assertEquals(root.resolve("train/b/b_1.jpg"), leaks.get(1).train().path());
        assertFalse(leaks.get(1).sameFile());
        String warning = log.stream().filter(l -> l.startsWith("warning: 2 test image(s) are also training images")).findFirst()
                .orElseThrow(() -> new AssertionError("no duplicate warning in " + log));
        assertTrue(warning.contains("test/a/link.jpg = train/a/a_0.jpg (same file)"), warning);
        assertTrue(warning.contains("test/b/copy.jpg = train/b/b_1.jpg (same bytes)"), warning);
    }

    @Test
    void distinctImagesAndCopiesWithinOneSplitGiveNoWarning() throws Exception {
        Images.dataset(root, new String[] {"a", "b"}, 3, 2);
        // a copy inside the training set is not a leak (graft check lists it)
        Files.copy(root.resolve("train/a/a_0.jpg"), root.resolve("train/a/again.jpg"));
        List<String> log = new ArrayList<>();
        DataSplits.load(root, 0, 0, 0, 1, log::add);
        assertTrue(log.stream().noneMatch(l -> l.contains("are also training images")), log.toString());
        List<Path> files = List.of(root.resolve("train/a/a_0.jpg"), root.resolve("train/a/again.jpg"), root.resolve("train/a/a_1.jpg"));
        assertEquals(List.of(List.of(0, 1)), SameImages.groups(files));
    }

    @Test
    void aCsvListingOneFileUnderTwoNamesInTrainAndTestIsALeak() throws Exception {
        Path img = Images.write(root.resolve("img/x.png"), Images.pattern(30, 30, 1), "png");
        Images.write(root.resolve("img/y.png"), Images.pattern(30, 30, 2), "png");
        Images.write(root.resolve("img/z.png"), Images.pattern(30, 30, 3), "png");
        Files.createSymbolicLink(root.resolve("img/x-again.png"), img.toAbsolutePath());
        Path csv = root.resolve("labels.csv");
        Files.writeString(csv, "file,label,split\nimg/x.png,a,train\nimg/y.png,b,train\nimg/z.png,a,test\nimg/x-again.png,a,test\n");
        List<String> log = new ArrayList<>();
        DataSplits.load(new DataSplits.Source(root, csv, 0, 0), 0, 0, 0, 1, log::add);
        assertTrue(log.stream().anyMatch(l -> l.contains("img/x-again.png = img/x.png (same file)")), log.toString());
    }
}
