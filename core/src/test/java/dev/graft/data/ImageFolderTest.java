package dev.graft.data;

import dev.graft.Images;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageFolderTest {
    @TempDir
    Path root;

    @Test
    void classesAreSortedFolderNamesAndExtensionsAnyCase() throws Exception {
        for (String c : new String[] {"zebra", "Apple", "mango"}) {
            Images.write(root.resolve("train").resolve(c).resolve("a.JPG"), Images.pattern(20, 20, 1), "jpg");
            Images.write(root.resolve("train").resolve(c).resolve("sub/b.Png"), Images.pattern(20, 20, 2), "png");
            Files.writeString(root.resolve("train").resolve(c).resolve("notes.txt"), "not an image");
            Images.write(root.resolve("test").resolve(c).resolve("t.jpeg"), Images.pattern(20, 20, 3), "jpg");
        }
        ImageFolder.Splits s = ImageFolder.book(root);
        // torchvision sorts by code point: upper case first
        assertEquals(List.of("Apple", "mango", "zebra"), s.train().classes());
        assertEquals(6, s.train().size());
        assertEquals(3, s.test().size());
        assertEquals(s.train().classes(), s.test().classes());
        assertTrue(s.train().warnings().stream().anyMatch(w -> w.contains("ignored 3 file")), s.train().warnings().toString());
        assertEquals(2, s.train().samples().stream().filter(x -> x.label() == 1).count());
    }

    @Test
    void testClassesMustBeTrainingClasses() throws Exception {
        Images.dataset(root, new String[] {"cat", "dog"}, 1, 1);
        Images.write(root.resolve("test/bird/x.jpg"), Images.pattern(20, 20, 1), "jpg");
        DataException e = assertThrows(DataException.class, () -> ImageFolder.book(root));
        assertTrue(e.getMessage().contains("bird"), e.getMessage());
    }

    @Test
    void emptyTrainingClassIsAClearError() throws Exception {
        Images.dataset(root, new String[] {"cat", "dog"}, 1, 1);
        Files.createDirectories(root.resolve("train/empty"));
        DataException e = assertThrows(DataException.class, () -> ImageFolder.book(root));
        assertTrue(e.getMessage().contains("empty") && e.getMessage().contains("no images"), e.getMessage());
    }

    @Test
    void missingLayoutExplainsTheBooksLayout() {
        DataException e = assertThrows(DataException.class, () -> ImageFolder.book(root));
        assertTrue(e.getMessage().contains("train/") && e.getMessage().contains("test/"), e.getMessage());
    }

    @Test
    void subsetAndValidationSplitAreStratifiedAndSeeded() throws Exception {
        Images.dataset(root, new String[] {"a", "b"}, 10, 1);
        ImageFolder train = ImageFolder.book(root).train();
        ImageFolder sub = train.subset(3, 7);
        assertEquals(List.of(3, 3), List.of(sub.countPerClass()[0], sub.countPerClass()[1]));
        assertEquals(sub.samples(), train.subset(3, 7).samples());
        ImageFolder[] tv = train.stratifiedSplit(0.2, 1);
        assertEquals(16, tv[0].size());
        assertEquals(2, tv[1].countPerClass()[0]);
        assertEquals(2, tv[1].countPerClass()[1]);
    }
}
