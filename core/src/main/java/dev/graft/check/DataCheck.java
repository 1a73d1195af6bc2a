package dev.graft.check;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What is wrong with the data, before it costs accuracy: likely label errors (confident learning on out-of-fold
 * probabilities), exact and near duplicates within and across the splits, outliers and blank images, and the class
 * pairs the probe confuses most. Runs on what a training run already has (the source model's features and its
 * probe), in seconds; without features it still finds exact duplicates. docs/DATA_CHECK.md gives the rules, their
 * thresholds and how they were calibrated.
 */
public final class DataCheck {
    /**
     * Centred feature cosine at or above which two images are near copies by their features alone (the pixel check
     * adds those whose thumbnails match, {@link Duplicates}). Calibrated on flowers12, hotdog and sketch7 with
     * MobileNet v1 0.75 (docs/DATA_CHECK.md).
     */
    public static final double NEAR_DUPLICATE = 0.90;
    /** Pairs listed at most (the highest first); the rest are counted. */
    public static final int MAX_PAIRS = 2000;
    /** Confused class pairs listed. */
    public static final int TOP_CONFUSIONS = 10;

    private DataCheck() {
    }

    /** Every detector, with the calibrated near-duplicate threshold. */
    public static CheckResult run(CheckInput in) {
        return run(in, NEAR_DUPLICATE);
    }

    public static CheckResult run(CheckInput in, double nearThreshold) {
        long t0 = System.nanoTime();
        Map<String, Double> seconds = new LinkedHashMap<>();
        LabelIssues.Found labels = LabelIssues.find(in);
        long t1 = System.nanoTime();
        seconds.put("label issues", (t1 - t0) / 1e9);
        Duplicates.Found dups = Duplicates.find(in, nearThreshold, MAX_PAIRS);
        long t2 = System.nanoTime();
        seconds.put("duplicates", (t2 - t1) / 1e9);
        Outliers.Found outliers = Outliers.find(in);
        long t3 = System.nanoTime();
        seconds.put("outliers", (t3 - t2) / 1e9);
        Confusions.Found conf = Confusions.find(in, TOP_CONFUSIONS);
        long t4 = System.nanoTime();
        seconds.put("confusions", (t4 - t3) / 1e9);
        return new CheckResult(in, labels, dups, outliers, conf, nearThreshold, seconds, (t4 - t0) / 1e9);
    }

    /** One image's findings, for the suggestions CSV and the report. */
    public record Finding(int image, List<String> issues, String suggested, double confidence, String detail) {
    }

    /**
     * The findings per image, in the order a person should review them: likely label errors (ranked), test images
     * that copy training images, other duplicates (the second image of each pair), outliers. An image has at most
     * one finding, listing all its issues.
     */
    public static List<Finding> findings(CheckResult r) {
        CheckInput in = r.input();
        Map<Integer, List<String>> issues = new LinkedHashMap<>();
        Map<Integer, List<String>> details = new LinkedHashMap<>();
        Map<Integer, LabelIssues.Issue> label = new LinkedHashMap<>();
        for (LabelIssues.Issue li : r.labels().issues()) {
            label.put(li.image(), li);
            add(issues, details, li.image(), "label", String.format(Locale.ROOT, "labelled %s, the probe says %s (p %.2f; p of the label %.2f)",
                    in.classes().get(li.given()), in.classes().get(li.suggested()), li.confidence(), li.selfConfidence()));
        }
        for (Duplicates.Pair p : r.duplicates().pairs()) {
            int flagged = p.scope() == Duplicates.Scope.ACROSS ? (in.images().get(p.first()).split().trains() ? p.second() : p.first()) : p.second();
            int other = flagged == p.first() ? p.second() : p.first();
            String how = p.kind() != Duplicates.Kind.NEAR ? p.kind().label() : Double.isNaN(p.pixels())
                    ? String.format(Locale.ROOT, "near copy (cosine %.3f)", p.similarity())
                    : String.format(Locale.ROOT, "near copy (pixels match %.3f, cosine %.3f)", p.pixels(), p.similarity());
            add(issues, details, flagged, p.scope() == Duplicates.Scope.ACROSS ? "leak" : "duplicate",
                    (p.scope() == Duplicates.Scope.ACROSS ? "test image, " : "") + how + " of " + in.images().get(other).name());
        }
        for (Outliers.Outlier o : r.outliers().outliers()) {
            add(issues, details, o.image(), o.blank() ? "blank" : "outlier", o.blank()
                    ? String.format(Locale.ROOT, "blank: pixel spread %.3f", in.spread(o.image()))
                    : String.format(Locale.ROOT, "far from every class (typicality %.2f, below %.2f)", o.typicality(), r.outliers().fence()));
        }
        List<Finding> out = new ArrayList<>();
        for (Map.Entry<Integer, List<String>> e : issues.entrySet()) {
            LabelIssues.Issue li = label.get(e.getKey());
            out.add(new Finding(e.getKey(), e.getValue(), li == null ? null : in.classes().get(li.suggested()),
                    li == null ? Double.NaN : li.confidence(), String.join("; ", details.get(e.getKey()))));
        }
        return out;
    }

    private static void add(Map<Integer, List<String>> issues, Map<Integer, List<String>> details, int image, String issue, String detail) {
        List<String> l = issues.computeIfAbsent(image, k -> new ArrayList<>());
        if (!l.contains(issue)) {
            l.add(issue);
        }
        List<String> d = details.computeIfAbsent(image, k -> new ArrayList<>());
        if (d.size() < 4) {
            d.add(detail);
        } else if (d.size() == 4) {
            d.add("...");
        }
    }
}
