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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** train --exclude FILE: the listed images are left out of every split, matched by real path; nothing on disk changes. */
class ExclusionsTest {
    @TempDir
    Path root;

    private List<Path> files(ImageFolder f) {
        return f.samples().stream().map(ImageFolder.Sample::path).toList();
    }

    @Test
    void aListLeavesOutTrainAndTestImagesAndNamesWhatItCouldNotFind() throws Exception {
        Path data = Images.dataset(root.resolve("data"), new String[] {"a", "b"}, 3, 2);
        Path list = root.resolve("rejected.txt");
        // relative to the list's folder; a comment, a blank line, and a file that is not in the data
        Files.writeString(list, "# rejected after graft check\ndata/train/a/a_1.jpg\n\ndata/test/b/b_0.jpg\ndata/train/a/gone.jpg\n");
        List<String> log = new ArrayList<>();
        DataSplits s = DataSplits.load(new DataSplits.Source(data, null, 0, 0, list), 0, 0, 0, 1, log::add);
        assertEquals(5, s.train().size());
        assertFalse(files(s.train()).contains(data.resolve("train/a/a_1.jpg")));
        assertEquals(3, s.test().size());
        assertFalse(files(s.test()).contains(data.resolve("test/b/b_0.jpg")));
        assertTrue(Files.exists(data.resolve("train/a/a_1.jpg")), "the file itself is untouched");
        String line = log.stream().filter(l -> l.startsWith("data: leaving out 2 image(s)")).findFirst().orElseThrow(() -> new AssertionError(log.toString()));
        assertTrue(line.contains("1 training, 1 test"), line);
        assertTrue(line.contains("1 listed file(s) are not among the images (first: line 5"), line);
        // without the list, everything is back
        assertEquals(6, DataSplits.load(data, 0, 0, 0, 1, m -> { }).train().size());
    }

    @Test
    void aCsvWithAnActionColumnExcludesOnlyTheRowsMarkedExcludeAndMatchesLinksByRealPath() throws Exception {
        Path data = Images.dataset(root.resolve("data"), new String[] {"a", "b"}, 3, 2);
        // the data's train/b/b_2.jpg reached through a link elsewhere
        Files.createSymbolicLink(root.resolve("alias.jpg"), data.resolve("train/b/b_2.jpg").toAbsolutePath());
        Path csv = root.resolve("suggestions.csv");
        Files.writeString(csv, "file,label,split,action,issue\n"
                + "data/train/a/a_0.jpg,a,train,exclude,outlier\n"
                + "data/train/a/a_2.jpg,a,train,,label\n"
                + "alias.jpg,b,train,Exclude,duplicate\n"
                + "\"data/test/a/a_0.jpg\",a,test,keep,\n");
        Exclusions ex = Exclusions.read(csv);
        assertEquals(2, ex.size());
        assertTrue(ex.excludes(data.resolve("train/b/b_2.jpg")));
        assertFalse(ex.excludes(data.resolve("train/a/a_2.jpg")));
        DataSplits s = DataSplits.load(new DataSplits.Source(data, null, 0, 0, csv), 0, 0, 0, 1, m -> { });
        assertEquals(List.of(data.resolve("train/a/a_1.jpg"), data.resolve("train/a/a_2.jpg"), data.resolve("train/b/b_0.jpg"),
                data.resolve("train/b/b_1.jpg")), files(s.train()));
        assertEquals(4, s.test().size());
    }

    @Test
    void aCarvedTestSetStaysTheSameImagesLessTheExcludedOnes() throws Exception {
        for (String c : List.of("a", "b")) {
            for (int i = 0; i < 10; i++) {
                Images.write(root.resolve("one/" + c + "/" + i + ".png"), Images.pattern(16, 16, c.hashCode() + i), "png");
            }
        }
        Path data = root.resolve("one");
        DataSplits before = DataSplits.load(new DataSplits.Source(data, null, 0.2, 0), 0, 0, 0, 1, m -> { });
        Path gone = before.test().samples().get(0).path();
        Path list = Files.writeString(root.resolve("x.txt"), gone.toAbsolutePath() + "\n" + before.train().samples().get(0).path().toAbsolutePath() + "\n");
        DataSplits after = DataSplits.load(new DataSplits.Source(data, null, 0.2, 0, list), 0, 0, 0, 1, m -> { });
        List<Path> expected = new ArrayList<>(files(before.test()));
        expected.remove(gone);
        assertEquals(expected, files(after.test()));
        assertEquals(before.train().size() - 1, after.train().size());
    }

    @Test
    void leavingAClassEmptyOrAMissingListIsAClearError() throws Exception {
        Path data = Images.dataset(root.resolve("data"), new String[] {"a", "b"}, 2, 1);
        Path list = Files.writeString(root.resolve("x.txt"), "data/train/b/b_0.jpg\ndata/train/b/b_1.jpg\n");
        DataException e = assertThrows(DataException.class, () -> DataSplits.load(new DataSplits.Source(data, null, 0, 0, list), 0, 0, 0, 1, m -> { }));
        assertTrue(e.getMessage().contains("class 'b' has no training images left"), e.getMessage());
        DataException missing = assertThrows(DataException.class, () -> Exclusions.read(root.resolve("nope.txt")));
        assertTrue(missing.getMessage().contains("nope.txt does not exist"), missing.getMessage());
    }
}
