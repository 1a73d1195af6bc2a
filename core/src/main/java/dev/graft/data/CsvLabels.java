package dev.graft.data;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Labels in a CSV file, as fastai's {@code ImageDataLoaders.from_csv} and Kaggle's competitions lay them out: a
 * header, then one row per image with its file (relative to the CSV's folder) and its label, and optionally which
 * split it belongs to. Columns are found by name (file: file, filename, fname, name, image, image_id, id, path;
 * label: label, class, category, target; split: split with train / valid / test, or fastai's is_valid with true /
 * false); a file without a header is read as file,label[,split]. A file name without an extension that does not
 * exist is tried with .jpg, .jpeg and .png (Kaggle's ids). Every problem names the line.
 * <p>
 * A CSV may come from someone else: the files it names must lie inside its own folder ({@code ../x.jpg} and absolute
 * paths elsewhere are refused, naming the line), unless the caller names a wider folder ({@code --data DIR}).
 */
public final class CsvLabels {
    static final Set<String> FILE_COLUMNS = Set.of("file", "filename", "file_name", "fname", "name", "image", "image_id", "img", "id", "path");
    static final Set<String> LABEL_COLUMNS = Set.of("label", "labels", "class", "category", "target", "species");
    static final List<String> GUESSED_EXTENSIONS = List.of(".jpg", ".jpeg", ".png");

    /** Which set a row belongs to. */
    public enum Split { TRAIN, VALID, TEST }

    /** One row: the image, its label, its split (TRAIN when the file has no split column) and its line number. */
    public record Row(Path file, String label, Split split, int line, boolean exists) {
    }

    private CsvLabels() {
    }

    /** Reads and checks the rows; files are resolved against the CSV's folder and must lie inside it. */
    public static List<Row> read(Path csv) {
        return read(csv, null);
    }

    /**
     * Reads and checks the rows; files are resolved against the CSV's folder and must lie inside {@code within}
     * (null: the CSV's folder), as written after {@code ..} is resolved.
     */
    public static List<Row> read(Path csv, Path within) {
        if (!Files.isRegularFile(csv)) {
            throw new DataException("labels file " + csv + " does not exist or is not a file");
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
        } catch (MalformedInputException e) {
            throw new DataException(csv + " is not UTF-8 text; save the CSV as UTF-8");
        } catch (IOException e) {
            throw new DataException(csv + " cannot be read: " + e.getMessage());
        }
        Path base = csv.toAbsolutePath().getParent();
        Path allowed = within == null ? base : within.toAbsolutePath().normalize();
        List<List<String>> records = new ArrayList<>();
        List<Integer> lineNumbers = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = i == 0 && lines.get(0).startsWith("\uFEFF") ? lines.get(0).substring(1) : lines.get(i);
            int first = i + 1;
            // a quoted field may span lines
            while (unbalanced(line)) {
                if (++i >= lines.size()) {
                    throw new DataException(csv + " line " + first + ": a quoted field is never closed");
                }
                line = line + "\n" + lines.get(i);
            }
            if (line.isBlank()) {
                continue;
            }
            records.add(fields(line));
            lineNumbers.add(first);
        }
        if (records.isEmpty()) {
            throw new DataException(csv + " is empty; it needs a header such as file,label and one row per image");
        }
        int fileCol;
        int labelCol;
        int splitCol;
        boolean fastaiValid = false;
        int start;
        List<String> header = records.get(0).stream().map(h -> h.trim().toLowerCase(Locale.ROOT)).toList();
        int f = indexOf(header, FILE_COLUMNS);
        int l = indexOf(header, LABEL_COLUMNS);
        if (f >= 0 && l >= 0) {
            fileCol = f;
            labelCol = l;
            splitCol = header.indexOf("split");
            if (splitCol < 0 && header.contains("is_valid")) {
                splitCol = header.indexOf("is_valid");
                fastaiValid = true;
            }
            start = 1;
        } else if (records.get(0).size() >= 2 && resolve(base, records.get(0).get(0).trim()) != null) {
            // no header: the first row already names an image
            fileCol = 0;
            labelCol = 1;
            splitCol = records.get(0).size() >= 3 ? 2 : -1;
            start = 0;
        } else {
            throw new DataException(csv + " line " + lineNumbers.get(0) + ": the header " + records.get(0) + " names no file column and "
                    + "label column; use e.g. file,label (or file,label,split with train/valid/test)");
        }
        List<Row> rows = new ArrayList<>();
        Map<Path, Row> seen = new HashMap<>();
        for (int k = start; k < records.size(); k++) {
            List<String> r = records.get(k);
            int line = lineNumbers.get(k);
            int need = Math.max(fileCol, Math.max(labelCol, splitCol)) + 1;
            if (r.size() < need) {
                throw new DataException(csv + " line " + line + ": " + r.size() + " column(s), expected at least " + need
                        + " (" + String.join(",", records.get(0)) + ")");
            }
            String name = r.get(fileCol).trim();
            String label = r.get(labelCol).trim();
            if (name.isEmpty()) {
                throw new DataException(csv + " line " + line + ": the file name is empty");
            }
            if (label.isEmpty()) {
                throw new DataException(csv + " line " + line + ": " + name + " has no label");
            }
            Split split = splitCol < 0 ? Split.TRAIN : parseSplit(r.get(splitCol).trim(), fastaiValid, csv, line);
            Path file;
            try {
                file = base.resolve(name).normalize();
            } catch (java.nio.file.InvalidPathException e) {
                throw new DataException(csv + " line " + line + ": '" + name.replace("\0", "\\0") + "' is not a usable file name (" + e.getReason() + ")");
            }
            if (!file.startsWith(allowed)) {
                boolean csvFolder = allowed.equals(base);
                throw new DataException(csv + " line " + line + ": " + name + " is outside " + (csvFolder ? "the CSV's folder " : "")
                        + allowed + "; graft reads only files inside " + (csvFolder ? "the folder of the labels file" : "that folder")
                        + ", so a CSV from someone else cannot make it read files elsewhere. Move the CSV to a folder that holds its images, "
                        + "or name the folder they may come from with --data DIR");
            }
            Path resolved = resolve(base, name);
            if (resolved != null) {
                file = resolved;
            }
            Row row = new Row(file, label, split, line, resolved != null);
            Row before = seen.putIfAbsent(file, row);
            if (before != null) {
                if (!before.label().equals(label) || before.split() != split) {
                    throw new DataException(csv + " line " + line + ": " + name + " is listed again with a different label or split "
                            + "(line " + before.line() + ": " + before.label() + ", " + before.split().name().toLowerCase(Locale.ROOT) + ")");
                }
                continue;
            }
            rows.add(row);
        }
        if (rows.isEmpty()) {
            throw new DataException(csv + " has a header but no rows");
        }
        if (rows.stream().noneMatch(Row::exists)) {
            Row r = rows.get(0);
            throw new DataException(csv + " line " + r.line() + ": " + r.file() + " does not exist, nor does any other file the CSV lists; "
                    + "file names are read relative to the CSV's folder " + base);
        }
        return rows;
    }

    private static Split parseSplit(String v, boolean fastaiValid, Path csv, int line) {
        String s = v.toLowerCase(Locale.ROOT);
        if (fastaiValid) {
            return switch (s) {
                case "true", "1", "yes" -> Split.VALID;
                case "false", "0", "no", "" -> Split.TRAIN;
                default -> throw new DataException(csv + " line " + line + ": is_valid is '" + v + "', not true or false");
            };
        }
        return switch (s) {
            case "train", "training", "" -> Split.TRAIN;
            case "valid", "validation", "val" -> Split.VALID;
            case "test" -> Split.TEST;
            default -> throw new DataException(csv + " line " + line + ": split '" + v + "' is not train, valid or test");
        };
    }

    private static int indexOf(List<String> header, Set<String> names) {
        for (int i = 0; i < header.size(); i++) {
            if (names.contains(header.get(i))) {
                return i;
            }
        }
        return -1;
    }

    /** The file, or with a guessed extension when the name has none; null when neither exists. */
    static Path resolve(Path base, String name) {
        Path p;
        try {
            p = base.resolve(name).normalize();
        } catch (java.nio.file.InvalidPathException e) {
            return null;
        }
        if (Files.exists(p) && !Files.isDirectory(p)) {
            return p;
        }
        if (!p.getFileName().toString().contains(".")) {
            for (String ext : GUESSED_EXTENSIONS) {
                Path q = p.resolveSibling(p.getFileName() + ext);
                if (Files.isRegularFile(q)) {
                    return q;
                }
            }
        }
        return null;
    }

    private static boolean unbalanced(String line) {
        int quotes = 0;
        for (int i = 0; i < line.length(); i++) {
            if (line.charAt(i) == '"') {
                quotes++;
            }
        }
        return quotes % 2 == 1;
    }

    /** RFC 4180 fields: commas separate, double quotes quote, "" inside quotes is one quote. */
    static List<String> fields(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '"') {
                    if (i + 1 < line.length() && line.charAt(i + 1) == '"') {
                        cur.append('"');
                        i++;
                    } else {
                        quoted = false;
                    }
                } else {
                    cur.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                out.add(cur.toString());
                cur.setLength(0);
            } else if (c != '\r') {
                cur.append(c);
            }
        }
        out.add(cur.toString());
        return out;
    }
}
