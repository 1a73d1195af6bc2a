package dev.graft.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** graft export's --out follows train's rules: a new or empty folder, or an earlier graft export with --overwrite. */
class ExportFolderTest {
    @TempDir
    Path tmp;

    static String export(Path out, String format, String... more) throws Exception {
        String[] args = {"export", "--model", TinyBundle.get().toString(), "--format", format, "--out", out.toString()};
        return TrainCommandTest.run(EveryModelTest.concat(args, more));
    }

    @Test
    void refusesSomebodyElsesFolderAndReplacesAnExportOnlyWhenAsked() throws Exception {
        Path mine = tmp.resolve("mine");
        Files.createDirectories(mine);
        Files.writeString(mine.resolve("notes.txt"), "my notes");
        String res = export(mine, "onnx");
        assertTrue(res.startsWith("1\n") && res.contains("is not empty and is not a graft export folder") && !res.contains("\tat "), res);
        assertEquals("my notes", Files.readString(mine.resolve("notes.txt")));
        assertFalse(Files.exists(mine.resolve("model.onnx")));
        assertTrue(export(mine, "onnx", "--overwrite").startsWith("1\n"), "--overwrite does not make somebody else's folder graft's");

        Path out = tmp.resolve("export");
        assertTrue(export(out, "onnx").startsWith("0\n"));
        res = export(out, "onnx");
        assertTrue(res.startsWith("1\n") && res.contains("holds an earlier graft export; add --overwrite to replace it, or choose another folder"), res);
        res = export(out, "safetensors", "--overwrite");
        assertTrue(res.startsWith("0\n") && res.contains("replacing the earlier export in " + out + " (--overwrite)"), res);
        assertTrue(Files.exists(out.resolve("model.safetensors")));
        assertFalse(Files.exists(out.resolve("model.onnx")), "the other format's model is not left beside the new one");

        res = export(TinyBundle.get(), "onnx", "--overwrite");
        assertTrue(res.startsWith("1\n") && res.contains("is the bundle itself"), res);
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        res = export(file, "onnx");
        assertTrue(res.startsWith("1\n") && res.contains("is a file, not a folder"), res);
    }
}
