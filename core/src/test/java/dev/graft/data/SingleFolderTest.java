package dev.graft.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One folder of class sub-folders: test and validation sets carved per class, reproducibly by seed, disjoint. */
class SingleFolderTest {
    @TempDir
    Path root;

    private void classes(int a, int b) throws IOException {
        for (int i = 0; i < a; i++) {
            Files.createDirectories(root.resolve("daisy"));
            Files.write(root.resolve("daisy/" + i + ".jpg"), new byte[] {1});
        }
        for (int i = 0; i < b; i++) {
            Files.createDirectories(root.resolve("rose"));
            Files.write(root.resolve("rose/" + i + ".jpg"), new byte[] {1});
        }
    }

    @Test
    void testAndValidationAreStratifiedDisjointAndReproducible() throws IOException {
        classes(50, 20);
        DataSplits.Source src = new DataSplits.Source(root, null, 0.2, 0);
        assertTrue(src.carvesTest());
        DataSplits s = DataSplits.load(src, 0, 0, 0.25, 1, m -> { });
        assertEquals(List.of("daisy", "rose"), s.classes());
        assertEquals(10, s.test().countPerClass()[0]);
        assertEquals(4, s.test().countPerClass()[1]);
        assertEquals(10, s.validation().countPerClass()[0], "25% of the 40 daisies left");
        assertEquals(4, s.validation().countPerClass()[1]);
        assertEquals(70, s.train().size() + s.validation().size() + s.test().size());
        Set<Path> seen = new HashSet<>();
        for (ImageFolder f : List.of(s.train(), s.validation(), s.test())) {
            f.samples().forEach(x -> assertTrue(seen.add(x.path()), "in two sets: " + x.path()));
        }
        // the same split seed gives the same test set whatever the recipe's seed; another split seed another one
        assertEquals(s.test().samples(), DataSplits.load(src, 0, 0, 0.25, 7, m -> { }).test().samples());
        assertNotEquals(s.validation().samples(), DataSplits.load(src, 0, 0, 0.25, 7, m -> { }).validation().samples());
        assertNotEquals(s.test().samples(), DataSplits.load(new DataSplits.Source(root, null, 0.2, 3), 0, 0, 0.25, 1, m -> { }).test().samples());
    }

    @Test
    void aTrainFolderAloneIsCarvedAndTheBookLayoutRefusesATestSplit() throws IOException {
        Path train = root.resolve("train");
        for (String c : List.of("a", "b")) {
            Files.createDirectories(train.resolve(c));
            for (int i = 0; i < 5; i++) {
                Files.write(train.resolve(c + "/" + i + ".png"), new byte[] {1});
            }
        }
        DataSplits s = DataSplits.load(new DataSplits.Source(root, null, 0.2, 0), 0, 0, 0, 1, m -> { });
        assertEquals(8, s.train().size());
        assertEquals(2, s.test().size());
        DataException none = assertThrows(DataException.class, () -> DataSplits.load(new DataSplits.Source(root, null, 0, 0), 0, 0, 0, 1, m -> { }));
        assertTrue(none.getMessage().contains("--test-split"), none.getMessage());
        Files.createDirectories(root.resolve("test/a"));
        Files.write(root.resolve("test/a/x.png"), new byte[] {1});
        DataException twice = assertThrows(DataException.class, () -> DataSplits.load(new DataSplits.Source(root, null, 0.2, 0), 0, 0, 0, 1, m -> { }));
        assertTrue(twice.getMessage().contains("has its own test/ folder"), twice.getMessage());
    }
}
