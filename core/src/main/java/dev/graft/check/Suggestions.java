package dev.graft.check;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * suggestions.csv: every image of the checked data in the {@code --labels} format ({@code file,label,split}, names
 * relative to the CSV's folder), the flagged ones first, with what the check found in extra columns that
 * {@code --labels} ignores: {@code action} (empty: for the user to fill), {@code issue} (label, leak, duplicate,
 * outlier, blank; joined by '+'), {@code suggested_label}, {@code confidence} and {@code detail}. The label column is
 * the given label: nothing is relabelled unless the user edits it. Passed back, it trains on the same images with the
 * user's labels ({@code --labels suggestions.csv}); rows whose action says {@code exclude} are left out with
 * {@code --exclude suggestions.csv}.
 */
public final class Suggestions {
    public static final String HEADER = "file,label,split,action,issue,suggested_label,confidence,detail";

    private Suggestions() {
    }

    public static List<String> lines(CheckResult r, Path csvFolder) {
        CheckInput in = r.input();
        Path base = csvFolder.toAbsolutePath().normalize();
        List<String> out = new ArrayList<>();
        out.add(HEADER);
        Set<Integer> done = new HashSet<>();
        for (DataCheck.Finding f : DataCheck.findings(r)) {
            done.add(f.image());
            out.add(row(in, f.image(), base, String.join("+", f.issues()), f.suggested() == null ? "" : f.suggested(),
                    Double.isNaN(f.confidence()) ? "" : String.format(Locale.ROOT, "%.3f", f.confidence()), f.detail()));
        }
        for (int i = 0; i < in.size(); i++) {
            if (!done.contains(i)) {
                out.add(row(in, i, base, "", "", "", ""));
            }
        }
        return out;
    }

    private static String row(CheckInput in, int i, Path base, String issue, String suggested, String confidence, String detail) {
        CheckInput.Image img = in.images().get(i);
        return String.join(",", field(relative(base, img.file())), field(in.classes().get(img.label())), img.split().csv(), "",
                field(issue), field(suggested), confidence, field(detail));
    }

    static String relative(Path base, Path file) {
        Path a = file.toAbsolutePath().normalize();
        try {
            return base.relativize(a).toString().replace('\\', '/');
        } catch (IllegalArgumentException e) {
            return a.toString();
        }
    }

    /** RFC 4180: quoted when it holds a comma, a quote or a line break, quotes doubled. */
    static String field(String s) {
        if (s.indexOf(',') >= 0 || s.indexOf('"') >= 0 || s.indexOf('\n') >= 0 || s.indexOf('\r') >= 0) {
            return '"' + s.replace("\"", "\"\"") + '"';
        }
        return s;
    }

    /** Writes the CSV atomically (a temporary file moved into place). */
    public static void write(Path csv, CheckResult r) throws IOException {
        Path folder = csv.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(folder, ".suggestions", ".csv");
        try {
            Files.write(tmp, lines(r, folder), StandardCharsets.UTF_8);
            Files.move(tmp, csv, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
