package dev.graft.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A folder of images with one sub-folder per class, like torchvision's {@code ImageFolder}: classes are the
 * sub-folder names sorted, each class folder is searched recursively for image files, and samples are ordered by
 * path. The book's dataset is {@code <root>/train/<class>/*} and {@code <root>/test/<class>/*}.
 */
public final class ImageFolder {
    public static final Set<String> EXTENSIONS = Set.of("jpg", "jpeg", "png", "bmp", "gif");

    /** One image and its class index. */
    public record Sample(Path path, int label) {
    }

    private final Path dir;
    private final List<String> classes;
    private final List<Sample> samples;
    private final List<String> warnings;
    private final int[] countPerClass;

    private ImageFolder(Path dir, List<String> classes, List<Sample> samples, List<String> warnings) {
        this.dir = dir;
        this.classes = List.copyOf(classes);
        this.samples = List.copyOf(samples);
        this.warnings = List.copyOf(warnings);
        this.countPerClass = new int[classes.size()];
        for (Sample s : samples) {
            countPerClass[s.label()]++;
        }
    }

    /** Images listed explicitly (a CSV of labels); {@code dir} is the folder their names are relative to. */
    public static ImageFolder of(Path dir, List<String> classes, List<Sample> samples, List<String> warnings) {
        return new ImageFolder(dir, classes, samples, warnings);
    }

    /** The book's layout: {@code root/train} and {@code root/test} with the same classes. */
    public record Splits(ImageFolder train, ImageFolder test) {
    }

    public static Splits book(Path root) {
        if (!Files.isDirectory(root)) {
            throw new DataException("data folder " + root + " does not exist or is not a folder");
        }
        Path train = root.resolve("train");
        Path test = root.resolve("test");
        if (!Files.isDirectory(train) || !Files.isDirectory(test)) {
            String missing = !Files.isDirectory(train) && !Files.isDirectory(test) ? "has neither train/ nor test/"
                    : !Files.isDirectory(train) ? "has test/ but no train/ folder" : "has train/ but no test/ folder";
            throw new DataException(root + " " + missing + "; graft needs both, each with one sub-folder per class "
                    + "(the book's layout: " + root + "/train/<class>/*.jpg, " + root + "/test/<class>/*.jpg)");
        }
        ImageFolder tr = scan(train, null);
        ImageFolder te = scan(test, tr.classes());
        return new Splits(tr, te);
    }

    /**
     * Scans {@code dir}. With {@code classes} null the sub-folders define the classes (training); otherwise the
     * sub-folders must be among the given classes (test data is labelled with the training classes).
     */
    public static ImageFolder scan(Path dir, List<String> trainClasses) {
        if (!Files.isDirectory(dir)) {
            throw new DataException(dir + " does not exist or is not a folder");
        }
        List<String> found = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("."))
                    .sorted().forEach(found::add);
        } catch (IOException e) {
            throw new DataException(dir + " cannot be listed: " + e.getMessage());
        }
        List<String> warnings = new ArrayList<>();
        List<String> classes;
        if (trainClasses == null) {
            if (found.size() < 2) {
                throw new DataException(dir + " has " + found.size() + " class folder(s) " + found
                        + "; a classifier needs at least 2 (one sub-folder per class)");
            }
            classes = found;
        } else {
            List<String> unknown = new ArrayList<>(found);
            unknown.removeAll(trainClasses);
            if (!unknown.isEmpty()) {
                throw new DataException(dir + " has classes that the training set does not have: " + unknown
                        + " (training classes: " + trainClasses + ")");
            }
            List<String> absent = new ArrayList<>(trainClasses);
            absent.removeAll(found);
            if (!absent.isEmpty()) {
                warnings.add(dir + " has no folder for training class(es) " + absent + "; they are not evaluated");
            }
            classes = trainClasses;
        }
        List<Sample> samples = new ArrayList<>();
        int ignored = 0;
        for (String c : found) {
            Path cdir = dir.resolve(c);
            List<Path> files = new ArrayList<>();
            List<Path> others = new ArrayList<>();
            try (Stream<Path> w = Files.walk(cdir, EnumSet.of(FileVisitOption.FOLLOW_LINKS).toArray(new FileVisitOption[0]))) {
                w.filter(p -> !Files.isDirectory(p))
                        .filter(p -> !p.getFileName().toString().startsWith("."))
                        .forEach(p -> (hasImageExtension(p) ? files : others).add(p));
            } catch (IOException | UncheckedIOException e) {
                throw new DataException(cdir + " cannot be listed: " + e.getMessage());
            }
            // make sure dangling links are listed, so they are reported rather than silently missing
            addBrokenLinks(cdir, files);
            Collections.sort(files);
            ignored += others.size();
            if (files.isEmpty()) {
                if (trainClasses == null) {
                    throw new DataException("class folder " + cdir + " has no images (." + String.join(", .", sortedExtensions())
                            + "); add images or remove the folder");
                }
                warnings.add("class folder " + cdir + " has no images");
            }
            int label = classes.indexOf(c);
            for (Path f : files) {
                samples.add(new Sample(f, label));
            }
        }
        if (ignored > 0) {
            warnings.add(dir + ": ignored " + ignored + " file(s) without an image extension (." + String.join(", .", sortedExtensions()) + ")");
        }
        return new ImageFolder(dir, classes, samples, warnings);
    }

    private static void addBrokenLinks(Path cdir, List<Path> files) {
        try (Stream<Path> w = Files.walk(cdir)) {
            w.filter(Files::isSymbolicLink).filter(p -> !Files.exists(p)).filter(ImageFolder::hasImageExtension)
                    .filter(p -> !files.contains(p)).forEach(files::add);
        } catch (IOException | UncheckedIOException e) {
            // the main walk already reported listing problems
        }
    }

    private static List<String> sortedExtensions() {
        return EXTENSIONS.stream().sorted().toList();
    }

    public static boolean hasImageExtension(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 && EXTENSIONS.contains(n.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    /** A subset with at most {@code perClass} images of each class (the first ones by a seeded shuffle). */
    public ImageFolder subset(int perClass, long seed) {
        List<Sample> shuffled = new ArrayList<>(samples);
        Collections.shuffle(shuffled, new java.util.Random(seed));
        int[] taken = new int[classes.size()];
        List<Sample> keep = new ArrayList<>();
        for (Sample s : shuffled) {
            if (taken[s.label()] < perClass) {
                taken[s.label()]++;
                keep.add(s);
            }
        }
        keep.sort((a, b) -> a.path().compareTo(b.path()));
        return new ImageFolder(dir, classes, keep, warnings);
    }

    /** Splits off a class-stratified validation set of the given fraction (seeded). */
    public ImageFolder[] stratifiedSplit(double fraction, long seed) {
        List<Sample> shuffled = new ArrayList<>(samples);
        Collections.shuffle(shuffled, new java.util.Random(seed));
        int[] valPerClass = new int[classes.size()];
        for (int c = 0; c < classes.size(); c++) {
            valPerClass[c] = (int) Math.round(countPerClass[c] * fraction);
        }
        List<Sample> train = new ArrayList<>();
        List<Sample> val = new ArrayList<>();
        for (Sample s : shuffled) {
            if (valPerClass[s.label()] > 0) {
                valPerClass[s.label()]--;
                val.add(s);
            } else {
                train.add(s);
            }
        }
        train.sort((a, b) -> a.path().compareTo(b.path()));
        val.sort((a, b) -> a.path().compareTo(b.path()));
        return new ImageFolder[] {new ImageFolder(dir, classes, train, warnings), new ImageFolder(dir, classes, val, List.of())};
    }

    /** These samples and {@code other}'s (same folder and classes), in path order: a training set and its validation part back together. */
    public ImageFolder union(ImageFolder other) {
        if (!other.dir.equals(dir) || !other.classes.equals(classes)) {
            throw new IllegalArgumentException("cannot join images of " + other.dir + " " + other.classes + " to " + dir + " " + classes);
        }
        List<Sample> all = new ArrayList<>(samples);
        all.addAll(other.samples);
        all.sort((a, b) -> a.path().compareTo(b.path()));
        return new ImageFolder(dir, classes, all, warnings);
    }

    public Path dir() {
        return dir;
    }

    public List<String> classes() {
        return classes;
    }

    public List<Sample> samples() {
        return samples;
    }

    public int size() {
        return samples.size();
    }

    public List<String> warnings() {
        return warnings;
    }

    public int[] countPerClass() {
        return countPerClass.clone();
    }

    /** SHA-256 over every sample's relative path, class and bytes: identifies the data a model saw. */
    public String fingerprint() {
        try {
            MessageDigest all = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (Sample s : samples) {
                all.update((dir.relativize(s.path()).toString() + "\0" + classes.get(s.label()) + "\0").getBytes(java.nio.charset.StandardCharsets.UTF_8));
                try (InputStream in = Files.newInputStream(s.path())) {
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        all.update(buf, 0, n);
                    }
                } catch (IOException e) {
                    all.update("<unreadable>".getBytes(java.nio.charset.StandardCharsets.UTF_8));
                }
            }
            return "sha256:" + HexFormat.of().formatHex(all.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
