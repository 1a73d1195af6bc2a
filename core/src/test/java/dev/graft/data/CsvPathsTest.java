package dev.graft.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A labels CSV from a stranger cannot make graft read files outside the CSV's folder (or the folder the user names). */
class CsvPathsTest {
    @TempDir
    Path tmp;

    Path setUp() throws Exception {
        Path set = Files.createDirectories(tmp.resolve("set/img"));
        Files.write(set.resolve("a.jpg"), new byte[] {1});
        Files.write(set.resolve("b.jpg"), new byte[] {1});
        Files.write(tmp.resolve("secret.jpg"), new byte[] {1});
        return set.getParent();
    }

    @Test
    void pathsLeavingTheCsvsFolderAreRefusedNamingTheLine() throws Exception {
        Path set = setUp();
        Path up = Files.writeString(set.resolve("up.csv"), "file,label\nimg/a.jpg,x\n../secret.jpg,y\n");
        DataException e = assertThrows(DataException.class, () -> CsvLabels.read(up));
        assertTrue(e.getMessage().contains("up.csv line 3: ../secret.jpg is outside the CSV's folder " + set.toAbsolutePath())
                && e.getMessage().contains("--data DIR"), e.getMessage());

        Path abs = Files.writeString(set.resolve("abs.csv"), "file,label\nimg/a.jpg,x\n" + tmp.resolve("secret.jpg").toAbsolutePath() + ",y\n");
        e = assertThrows(DataException.class, () -> CsvLabels.read(abs));
        assertTrue(e.getMessage().contains("abs.csv line 3: ") && e.getMessage().contains("is outside the CSV's folder"), e.getMessage());

        // without a header too, and hidden behind a sub-folder: resolved first, then checked
        Path deep = Files.writeString(set.resolve("deep.csv"), "img/a.jpg,x\nimg/../../secret.jpg,y\n");
        e = assertThrows(DataException.class, () -> CsvLabels.read(deep));
        assertTrue(e.getMessage().contains("deep.csv line 2: img/../../secret.jpg is outside"), e.getMessage());
    }

    @Test
    void pathsInsideAndAnExplicitlyNamedWiderFolderAreRead() throws Exception {
        Path set = setUp();
        Path inside = Files.writeString(set.resolve("in.csv"), "file,label\nimg/a.jpg,x\nimg/../img/b.jpg,y\n"
                + set.resolve("img/a.jpg").toAbsolutePath() + ",x\n");
        List<CsvLabels.Row> rows = CsvLabels.read(inside);
        assertEquals(2, rows.size(), "the absolute path inside is the same file as line 2");
        assertEquals(set.resolve("img/b.jpg").toAbsolutePath().normalize(), rows.get(1).file());

        Path up = Files.writeString(set.resolve("up.csv"), "file,label\nimg/a.jpg,x\n../secret.jpg,y\n");
        rows = CsvLabels.read(up, tmp);
        assertEquals(tmp.resolve("secret.jpg").toAbsolutePath().normalize(), rows.get(1).file(), "the user named the wider folder");
        DataException e = assertThrows(DataException.class, () -> CsvLabels.read(up, set.resolve("img")));
        assertTrue(e.getMessage().contains("up.csv line 3: ../secret.jpg is outside " + set.resolve("img").toAbsolutePath()), e.getMessage());
    }
}
