package dev.graft.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --labels FILE.csv: fastai's from_csv and Kaggle's layouts, and every malformed file refused with its line. */
class CsvLabelsTest {
    @TempDir
    Path dir;

    private Path images(String... names) throws IOException {
        for (String n : names) {
            Path p = dir.resolve(n);
            Files.createDirectories(p.getParent());
            Files.write(p, new byte[] {1});
        }
        return dir;
    }

    private Path csv(String text) throws IOException {
        return Files.writeString(dir.resolve("labels.csv"), text);
    }

    @Test
    void readsHeaderColumnsByNameQuotesSplitsAndKaggleIdsWithoutExtension() throws IOException {
        images("img/a.jpg", "img/b.jpg", "img/c, d.jpg", "img/e.png", "f.jpg");
        List<CsvLabels.Row> rows = CsvLabels.read(csv("""
                label,image,split
                cat,img/a.jpg,train
                dog,img/b.jpg,valid
                cat,"img/c, d.jpg",test
                dog,img/e,train
                cat,f.jpg,
                """));
        assertEquals(5, rows.size());
        assertEquals(dir.resolve("img/a.jpg").toAbsolutePath().normalize(), rows.get(0).file());
        assertEquals(CsvLabels.Split.VALID, rows.get(1).split());
        assertEquals(dir.resolve("img/c, d.jpg").toAbsolutePath().normalize(), rows.get(2).file());
        assertEquals(CsvLabels.Split.TEST, rows.get(2).split());
        assertEquals(dir.resolve("img/e.png").toAbsolutePath().normalize(), rows.get(3).file(), "Kaggle id: extension found");
        assertEquals(CsvLabels.Split.TRAIN, rows.get(4).split(), "an empty split is train");
        assertEquals(6, rows.get(4).line());
    }

    @Test
    void fastaiIsValidAndNoHeader() throws IOException {
        images("a.jpg", "b.jpg");
        List<CsvLabels.Row> rows = CsvLabels.read(csv("fname,labels,is_valid\na.jpg,x,False\nb.jpg,y,True\n"));
        assertEquals(List.of(CsvLabels.Split.TRAIN, CsvLabels.Split.VALID), rows.stream().map(CsvLabels.Row::split).toList());
        rows = CsvLabels.read(csv("a.jpg,x\nb.jpg,y\n"));
        assertEquals(2, rows.size(), "no header: the first row is an image");
        assertEquals("x", rows.get(0).label());
    }

    @Test
    void missingFilesAreListedForTheLoaderToCountButAllMissingIsAnError() throws IOException {
        images("a.jpg");
        List<CsvLabels.Row> rows = CsvLabels.read(csv("file,label\na.jpg,x\ngone.jpg,y\n"));
        assertTrue(rows.get(0).exists());
        assertFalse(rows.get(1).exists());
        DataException e = assertThrows(DataException.class, () -> CsvLabels.read(csv("file,label\nno.jpg,x\nnone.jpg,y\n")));
        assertTrue(e.getMessage().contains("line 2") && e.getMessage().contains("relative to the CSV's folder"), e.getMessage());
    }

    @Test
    void errorsNameTheFileAndLine() throws IOException {
        images("a.jpg", "b.jpg");
        assertError("file,label\na.jpg,x\nb.jpg\n", "line 3: 1 column(s), expected at least 2");
        assertError("file,label\na.jpg,x\nb.jpg,\n", "line 3: b.jpg has no label");
        assertError("file,label\n,x\n", "line 2: the file name is empty");
        assertError("file,label,split\na.jpg,x,train\nb.jpg,y,holdout\n", "line 3: split 'holdout' is not train, valid or test");
        assertError("file,label\na.jpg,x\n\"b.jpg,y\n", "line 3: a quoted field is never closed");
        assertError("picture,kind\na.jpg,x\n", "line 1: the header [picture, kind] names no file column");
        assertError("file,label\na.jpg,x\na.jpg,y\n", "line 3: a.jpg is listed again with a different label or split (line 2: x, train)");
        assertError("file,label\n", "has a header but no rows");
        assertError("", "is empty");
        DataException e = assertThrows(DataException.class, () -> CsvLabels.read(dir.resolve("nope.csv")));
        assertTrue(e.getMessage().contains("nope.csv does not exist"), e.getMessage());
    }

    @Test
    void splitsFromTheCsvAndUnknownTestLabels() throws IOException {
        images("a1.jpg", "a2.jpg", "b1.jpg", "b2.jpg", "t.jpg", "v.jpg");
        Path labels = csv("file,label,split\na1.jpg,a,train\na2.jpg,a,train\nb1.jpg,b,train\nb2.jpg,b,train\nv.jpg,b,valid\nt.jpg,a,test\n");
        DataSplits s = DataSplits.load(new DataSplits.Source(dir, labels, 0, 0), 0, 0, 0.2, 1, m -> { });
        assertEquals(List.of("a", "b"), s.classes());
        assertEquals(4, s.train().size());
        assertEquals(1, s.validation().size(), "the valid rows are the validation set");
        assertEquals(1, s.test().size());
        // without a validation split in the recipe the valid rows train
        assertEquals(5, DataSplits.load(new DataSplits.Source(dir, labels, 0, 0), 0, 0, 0, 1, m -> { }).train().size());
        Path bad = Files.writeString(dir.resolve("bad.csv"), "file,label,split\na1.jpg,a,train\nb1.jpg,b,train\nt.jpg,c,test\n");
        DataException e = assertThrows(DataException.class, () -> DataSplits.load(new DataSplits.Source(dir, bad, 0, 0), 0, 0, 0, 1, m -> { }));
        assertTrue(e.getMessage().contains("line 4: test label 'c' is not among the training labels [a, b]"), e.getMessage());
        DataException twice = assertThrows(DataException.class, () -> DataSplits.load(new DataSplits.Source(dir, labels, 0.2, 0), 0, 0, 0, 1, m -> { }));
        assertTrue(twice.getMessage().contains("marks test rows"), twice.getMessage());
    }

    @Test
    void aCsvWithoutTestRowsHoldsOutAStratifiedTestSplit() throws IOException {
        StringBuilder sb = new StringBuilder("file,label\n");
        for (int i = 0; i < 10; i++) {
            images("a" + i + ".jpg", "b" + i + ".jpg");
            sb.append("a").append(i).append(".jpg,a\nb").append(i).append(".jpg,b\n");
        }
        Path labels = csv(sb.toString());
        DataSplits s = DataSplits.load(new DataSplits.Source(dir, labels, 0.2, 0), 0, 0, 0, 1, m -> { });
        assertEquals(List.of(2, 2), List.of(s.test().countPerClass()[0], s.test().countPerClass()[1]));
        assertEquals(16, s.train().size());
        assertNull(s.validation());
    }

    private void assertError(String text, String expected) throws IOException {
        Path p = csv(text);
        DataException e = assertThrows(DataException.class, () -> CsvLabels.read(p));
        assertTrue(e.getMessage().contains("labels.csv") && e.getMessage().contains(expected), e.getMessage());
    }
}
