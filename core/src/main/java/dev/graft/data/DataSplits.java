package dev.graft.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * The images of a run: training images, an optional validation split carved from them (to pick an epoch or a
 * model), and the test images, which no choice ever looks at.
 */
public record DataSplits(ImageFolder train, ImageFolder validation, ImageFolder test) {

    /** Test share carved from data that comes without a test set, unless --test-split says otherwise. */
    public static final double DEFAULT_TEST_SPLIT = 0.2;

    /**
     * Where the images and labels are. Three layouts: the book's ({@code root/train/<class>}, {@code root/test/<class>});
     * one folder of class sub-folders ({@code root/<class>}, or {@code root/train/<class>} alone); or a CSV of labels
     * ({@code labels}, see {@link CsvLabels}). Data without its own test set has a class-stratified {@code testSplit}
     * share held out as the test set, drawn with {@code splitSeed}; the seed is the data's, not the run's, so runs
     * with different training seeds are scored on the same test images. {@code exclude} (null: none) lists images to
     * leave out of every split ({@link Exclusions}); they are left out after the test split is drawn, so the test set
     * stays the same images less the excluded ones.
     */
    public record Source(Path root, Path labels, double testSplit, long splitSeed, Path exclude) {
        public Source(Path root, Path labels, double testSplit, long splitSeed) {
            this(root, labels, testSplit, splitSeed, null);
        }

        public static Source book(Path root) {
            return new Source(root, null, 0, 0);
        }

        public Source withExclude(Path file) {
            return new Source(root, labels, testSplit, splitSeed, file);
        }

        /** Whether the data has no test set of its own, so one is carved. */
        public boolean carvesTest() {
            if (labels != null) {
                return CsvLabels.read(labels, root).stream().noneMatch(r -> r.split() == CsvLabels.Split.TEST);
            }
            return !(Files.isDirectory(root.resolve("train")) && Files.isDirectory(root.resolve("test")));
        }

        public String describe() {
            String where = labels != null ? "labels " + labels : root.toString();
            return testSplit > 0 ? String.format(Locale.ROOT, "%s, %.0f%% of each class held out as the test set (split seed %d)",
                    where, 100 * testSplit, splitSeed) : where;
        }
    }

    public List<String> classes() {
        return train.classes();
    }

    /** The book's layout, as {@link #load(Source, int, int, double, long, Consumer)}. */
    public static DataSplits load(Path root, int perClass, int testPerClass, double validation, long seed, Consumer<String> log) {
        return load(Source.book(root), perClass, testPerClass, validation, seed, log);
    }

    /**
     * The data of {@code src}: at most {@code perClass} training and {@code testPerClass} test images per class
     * (0: all), and a class-stratified {@code validation} fraction of the training images held out (0: none), all
     * seeded. A CSV's valid rows are the validation set when the recipe keeps one.
     */
    public static DataSplits load(Source src, int perClass, int testPerClass, double validation, long seed, Consumer<String> log) {
        ImageFolder pool;
        ImageFolder test = null;
        ImageFolder givenValidation = null;
        boolean bookLayout = src.labels() == null && Files.isDirectory(src.root().resolve("train")) && Files.isDirectory(src.root().resolve("test"));
        if (src.labels() != null) {
            ImageFolder[] parts = fromCsv(src.labels(), src.root(), log);
            pool = parts[0];
            givenValidation = parts[1];
            test = parts[2];
        } else if (bookLayout) {
            ImageFolder.Splits s = ImageFolder.book(src.root());
            pool = s.train();
            test = s.test();
        } else {
            if (!Files.isDirectory(src.root())) {
                throw new DataException("data folder " + src.root() + " does not exist or is not a folder");
            }
            Path dir = Files.isDirectory(src.root().resolve("train")) ? src.root().resolve("train") : src.root();
            pool = ImageFolder.scan(dir, null);
        }
        if (test != null && src.testSplit() > 0) {
            throw new DataException((src.labels() != null ? src.labels() + " marks test rows" : src.root() + " has its own test/ folder")
                    + "; --test-split carves a test set only from data that has none");
        }
        if (test == null) {
            if (!(src.testSplit() > 0)) {
                throw new DataException(src.describe() + " has no test set; hold one out with --test-split (e.g. 0.2)");
            }
            ImageFolder[] tt = pool.stratifiedSplit(src.testSplit(), src.splitSeed());
            pool = tt[0];
            test = tt[1];
            log.accept(String.format(Locale.ROOT, "data: no test set in %s; holding out %d image(s), %.0f%% of each class, as the test set "
                    + "(--test-split %.2f, --split-seed %d)", src.labels() != null ? src.labels() : src.root(), test.size(),
                    100 * src.testSplit(), src.testSplit(), src.splitSeed()));
        }
        if (src.exclude() != null) {
            Exclusions ex = Exclusions.read(src.exclude());
            java.util.Set<Path> matched = new java.util.HashSet<>();
            int trainBefore = pool.size() + (givenValidation == null ? 0 : givenValidation.size());
            int testBefore = test.size();
            pool = ex.apply(pool, matched);
            givenValidation = givenValidation == null ? null : ex.apply(givenValidation, matched);
            test = ex.apply(test, matched);
            log.accept(ex.describe(trainBefore - pool.size() - (givenValidation == null ? 0 : givenValidation.size()),
                    testBefore - test.size(), matched));
            int[] left = pool.countPerClass();
            for (int c = 0; c < left.length; c++) {
                if (left[c] == 0 && (givenValidation == null || givenValidation.countPerClass()[c] == 0)) {
                    throw new DataException("class '" + pool.classes().get(c) + "' has no training images left once those listed in "
                            + src.exclude() + " are left out; keep some, or remove the class");
                }
            }
        }
        ImageFolder train = perClass > 0 ? pool.subset(perClass, seed) : pool;
        if (testPerClass > 0) {
            test = test.subset(testPerClass, seed);
        }
        train.warnings().forEach(log);
        test.warnings().forEach(log);
        ImageFolder val = null;
        if (validation > 0 && givenValidation != null) {
            val = givenValidation;
            log.accept("data: the validation set is the " + val.size() + " row(s) marked valid in " + src.labels());
        } else if (validation > 0) {
            ImageFolder[] tv = train.stratifiedSplit(validation, seed);
            train = tv[0];
            val = tv[1];
        } else if (givenValidation != null) {
            log.accept("data: this recipe keeps no validation set; the " + givenValidation.size() + " row(s) marked valid in "
                    + src.labels() + " join the training images");
            List<ImageFolder.Sample> all = new ArrayList<>(train.samples());
            all.addAll(givenValidation.samples());
            train = ImageFolder.of(train.dir(), train.classes(), all, train.warnings());
        }
        if (train.size() == 0) {
            throw new DataException("no training images in " + (src.labels() != null ? src.labels() : src.root())
                    + (src.exclude() != null ? " once those listed in " + src.exclude() + " are left out" : ""));
        }
        DataSplits splits = new DataSplits(train, val, test);
        String leak = SameImages.warning(SameImages.acrossSplits(splits), src.root());
        if (leak != null) {
            log.accept(leak);
        }
        return splits;
    }

    /** The CSV's rows as train / valid (null when none) / test (null when none) sets over the train rows' classes. */
    static ImageFolder[] fromCsv(Path csv, Path within, Consumer<String> log) {
        List<CsvLabels.Row> rows = CsvLabels.read(csv, within);
        TreeSet<String> names = new TreeSet<>();
        rows.stream().filter(r -> r.split() != CsvLabels.Split.TEST).forEach(r -> names.add(r.label()));
        List<String> classes = List.copyOf(names);
        if (classes.size() < 2) {
            throw new DataException(csv + " has " + classes.size() + " label(s) " + classes + " among its training rows; a classifier needs at least 2");
        }
        List<List<ImageFolder.Sample>> parts = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        List<String> missing = new ArrayList<>();
        for (CsvLabels.Row r : rows) {
            int label = classes.indexOf(r.label());
            if (label < 0) {
                throw new DataException(csv + " line " + r.line() + ": test label '" + r.label() + "' is not among the training labels " + classes);
            }
            if (!r.exists()) {
                // listed anyway, so the loader counts it as skipped (or stops, naming it, with --on-bad-image fail)
                missing.add("line " + r.line() + ": " + r.file());
            }
            parts.get(r.split().ordinal()).add(new ImageFolder.Sample(r.file(), label));
        }
        Path base = csv.toAbsolutePath().getParent();
        List<String> warnings = missing.isEmpty() ? List.of() : List.of(csv + ": " + missing.size() + " listed file(s) do not exist (first: "
                + missing.get(0) + "); they are skipped");
        for (List<ImageFolder.Sample> p : parts) {
            p.sort((a, b) -> a.path().compareTo(b.path()));
        }
        ImageFolder train = ImageFolder.of(base, classes, parts.get(0), warnings);
        for (int c = 0; c < classes.size(); c++) {
            if (train.countPerClass()[c] == 0) {
                throw new DataException(csv + ": label '" + classes.get(c) + "' has no training rows (only valid ones)");
            }
        }
        return new ImageFolder[] {train,
            parts.get(1).isEmpty() ? null : ImageFolder.of(base, classes, parts.get(1), List.of()),
            parts.get(2).isEmpty() ? null : ImageFolder.of(base, classes, parts.get(2), List.of())};
    }

    /** The same images with a validation split carved from the training images. */
    public DataSplits withValidation(double fraction, long seed) {
        ImageFolder[] tv = train.stratifiedSplit(fraction, seed);
        return new DataSplits(tv[0], tv[1], test);
    }
}
