package dev.graft.data;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The images a user rejected ({@code train --exclude FILE}): left out of every split, never touched on disk. The file
 * is either a list, one image per line (the first comma-separated field; {@code #} starts a comment), or a CSV with a
 * header naming a file column as {@code --labels} does (file, filename, image, path, ...). A CSV with an
 * {@code action} column, such as the suggestions.csv that {@code graft check} writes, excludes only the rows whose
 * action is {@code exclude} (or drop, remove, reject); without that column every listed row is excluded. Names are
 * relative to the file's folder, and matched by real path, so a link and its target are the same image.
 */
public final class Exclusions {
    static final Set<String> EXCLUDE_ACTIONS = Set.of("exclude", "excluded", "drop", "remove", "reject", "rejected");

    private final Path file;
    /** Real path of each listed image, with the line that listed it. */
    private final Map<Path, Integer> listed;

    private Exclusions(Path file, Map<Path, Integer> listed) {
        this.file = file;
        this.listed = listed;
    }

    public Path file() {
        return file;
    }

    public int size() {
        return listed.size();
    }

    /** Whether the image is among the excluded ones. */
    public boolean excludes(Path image) {
        return listed.containsKey(FileHashes.realPath(image));
    }

    /** Reads the file; every problem names it and the line. */
    public static Exclusions read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new DataException("--exclude file " + file + " does not exist or is not a file");
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (MalformedInputException e) {
            throw new DataException(file + " is not UTF-8 text; save the --exclude list as UTF-8");
        } catch (IOException e) {
            throw new DataException(file + " cannot be read: " + e.getMessage());
        }
        Path base = file.toAbsolutePath().getParent();
        Map<Path, Integer> listed = new LinkedHashMap<>();
        int fileCol = 0;
        int actionCol = -1;
        int start = 0;
        while (start < lines.size() && isSkipped(lines.get(start))) {
            start++;
        }
        if (start < lines.size()) {
            String first = lines.get(start).startsWith("\uFEFF") ? lines.get(start).substring(1) : lines.get(start);
            List<String> header = CsvLabels.fields(first).stream().map(h -> h.trim().toLowerCase(Locale.ROOT)).toList();
            int f = -1;
            for (int i = 0; i < header.size() && f < 0; i++) {
                if (CsvLabels.FILE_COLUMNS.contains(header.get(i))) {
                    f = i;
                }
            }
            if (f >= 0 && !Files.exists(base.resolve(CsvLabels.fields(first).get(f).trim()))) {
                fileCol = f;
                actionCol = header.indexOf("action");
                start++;
            }
        }
        for (int i = start; i < lines.size(); i++) {
            String line = i == 0 && lines.get(0).startsWith("\uFEFF") ? lines.get(0).substring(1) : lines.get(i);
            if (isSkipped(line)) {
                continue;
            }
            List<String> r = CsvLabels.fields(line);
            if (r.size() <= fileCol) {
                throw new DataException(file + " line " + (i + 1) + ": no file name in column " + (fileCol + 1));
            }
            if (actionCol >= 0 && (r.size() <= actionCol || !EXCLUDE_ACTIONS.contains(r.get(actionCol).trim().toLowerCase(Locale.ROOT)))) {
                continue;
            }
            String name = r.get(fileCol).trim();
            if (name.isEmpty()) {
                throw new DataException(file + " line " + (i + 1) + ": the file name is empty");
            }
            Path p;
            try {
                p = base.resolve(name).normalize();
            } catch (java.nio.file.InvalidPathException e) {
                throw new DataException(file + " line " + (i + 1) + ": '" + name + "' is not a file name");
            }
            listed.putIfAbsent(FileHashes.realPath(p), i + 1);
        }
        return new Exclusions(file, listed);
    }

    private static boolean isSkipped(String line) {
        String t = line.strip();
        return t.isEmpty() || t.startsWith("#");
    }

    /** The folder without the excluded images. */
    public ImageFolder apply(ImageFolder folder, Set<Path> matched) {
        List<ImageFolder.Sample> keep = new ArrayList<>();
        for (ImageFolder.Sample s : folder.samples()) {
            Path real = FileHashes.realPath(s.path());
            if (listed.containsKey(real)) {
                matched.add(real);
            } else {
                keep.add(s);
            }
        }
        return keep.size() == folder.size() ? folder : ImageFolder.of(folder.dir(), folder.classes(), keep, folder.warnings());
    }

    /** What was left out, for the log: counts per split, and the listed files that are not among the images. */
    public String describe(int train, int test, Set<Path> matched) {
        Set<Path> unmatched = new HashSet<>(listed.keySet());
        unmatched.removeAll(matched);
        String s = String.format(Locale.ROOT, "data: leaving out %d image(s) listed in %s (--exclude): %d training, %d test; the files "
                + "themselves are untouched", train + test, file, train, test);
        if (!unmatched.isEmpty()) {
            Path first = listed.keySet().stream().filter(unmatched::contains).findFirst().orElseThrow();
            s += String.format(Locale.ROOT, "; warning: %d listed file(s) are not among the images (first: line %d, %s)",
                    unmatched.size(), listed.get(first), first);
        }
        return s;
    }
}
