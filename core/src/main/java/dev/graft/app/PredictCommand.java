package dev.graft.app;

import dev.graft.api.Classifier;
import dev.graft.data.BadImageException;
import dev.graft.data.ImageFolder;
import dev.graft.data.OnBadImage;
import dev.graft.data.RgbImage;
import dev.graft.util.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/** Classifies images with a trained bundle: a table on the terminal, or JSON lines. */
@Command(name = "predict", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Classify images (files or folders) with a trained model bundle.",
            "Plain output: one line per image, the file name then TAB-separated 'label probability' pairs; a backslash, "
                + "tab or newline in a file name is written as \\\\, \\t or \\n so every image stays on one line."})
final class PredictCommand implements Callable<Integer> {
    @Mixin
    BundleOptions bundle;

    @Parameters(arity = "1..*", paramLabel = "IMAGE|DIR", description = "images, or folders searched recursively")
    List<Path> inputs;

    @Option(names = "--json", description = "one JSON object per line: {\"file\":..., \"predictions\":[{\"label\":..., \"probability\":...}]}")
    boolean json;

    @Option(names = "--batch-size", converter = Ranges.AtLeastOne.class, defaultValue = "16")
    int batchSize;

    @Option(names = "--explain", paramLabel = "DIR", description = "also write a Grad-CAM heat map of the top class over each image, "
            + "as DIR/<image name>.gradcam.png (the image as the model saw it: resized and centre-cropped)")
    Path explain;

    @Override
    public Integer call() throws Exception {
        List<Path> files = expand(inputs);
        if (explain != null) {
            if (Files.exists(explain) && !Files.isDirectory(explain)) {
                throw new IllegalArgumentException("--explain " + explain + " is a file; give a folder for the heat maps");
            }
            Files.createDirectories(explain);
        }
        java.util.Set<String> explained = new java.util.HashSet<>();
        int predicted = 0;
        int failed = 0;
        try (Classifier c = bundle.load(BundleOptions.TRAINING_MAX_PIXELS, bundle.engine)) {
            System.err.println("graft: engine: " + c.engine());
            if (explain != null && !c.explains()) {
                throw new IllegalArgumentException("--explain needs Grad-CAM, which " + bundle.model + " cannot give (an ONNX export "
                        + "alone, or an architecture without a feature map); predict with the bundle for heat maps");
            }
            ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors())));
            try {
                for (int start = 0; start < files.size(); start += batchSize) {
                    List<Path> chunk = files.subList(start, Math.min(files.size(), start + batchSize));
                    List<Future<RgbImage>> decoded = new ArrayList<>();
                    for (Path f : chunk) {
                        decoded.add(pool.submit(() -> c.decode(f)));
                    }
                    List<Path> ok = new ArrayList<>();
                    List<RgbImage> imgs = new ArrayList<>();
                    for (int i = 0; i < chunk.size(); i++) {
                        try {
                            imgs.add(decoded.get(i).get());
                            ok.add(chunk.get(i));
                        } catch (ExecutionException e) {
                            String why = e.getCause() instanceof BadImageException b ? b.reason() : String.valueOf(e.getCause());
                            if (bundle.onBadImage == OnBadImage.FAIL) {
                                throw new IllegalArgumentException(chunk.get(i) + ": " + why + " (--on-bad-image fail)");
                            }
                            failed++;
                            System.err.println("graft: skipping " + chunk.get(i) + ": " + why);
                            if (json) {
                                System.out.println(Json.compact(PredictionJson.error(chunk.get(i).toString(), why)));
                            }
                        }
                    }
                    if (imgs.isEmpty()) {
                        continue;
                    }
                    List<List<Classifier.Prediction>> preds = c.predict(imgs, bundle.topK);
                    for (int i = 0; i < ok.size(); i++) {
                        System.out.println(json ? Json.compact(PredictionJson.of(ok.get(i).toString(), preds.get(i)))
                                : plain(ok.get(i), preds.get(i)));
                        predicted++;
                        if (explain != null) {
                            Path png = explain.resolve(heatMapName(ok.get(i), explained));
                            javax.imageio.ImageIO.write(c.explain(imgs.get(i), preds.get(i).get(0).index()), "png", png.toFile());
                        }
                    }
                }
            } finally {
                pool.shutdownNow();
            }
        }
        if (!json) {
            System.err.printf(Locale.ROOT, "graft: %d image(s) predicted, %d skipped%s%n", predicted, failed,
                    explain != null ? "; Grad-CAM heat maps in " + explain : "");
        }
        return predicted > 0 ? 0 : 1;
    }

    /** photo.jpg -> photo.gradcam.png; a second photo.jpg from another folder -> photo-2.gradcam.png. */
    static String heatMapName(Path image, java.util.Set<String> taken) {
        String n = image.getFileName().toString();
        int dot = n.lastIndexOf('.');
        String stem = dot > 0 ? n.substring(0, dot) : n;
        String name = stem + ".gradcam.png";
        for (int k = 2; !taken.add(name); k++) {
            name = stem + "-" + k + ".gradcam.png";
        }
        return name;
    }

    static String plain(Path f, List<Classifier.Prediction> preds) {
        StringBuilder sb = new StringBuilder(escape(f.toString()));
        for (Classifier.Prediction p : preds) {
            sb.append(String.format(Locale.ROOT, "\t%s %.4f", escape(p.label()), p.probability()));
        }
        return sb.toString();
    }

    /** One line per image whatever the name holds: backslash, tab, newline and carriage return escaped. */
    static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r");
    }

    /** Files as given, folders searched recursively for image extensions, in path order. */
    static List<Path> expand(List<Path> inputs) {
        List<Path> out = new ArrayList<>();
        for (Path p : inputs) {
            if (Files.isDirectory(p)) {
                try (Stream<Path> w = Files.walk(p)) {
                    w.filter(f -> !Files.isDirectory(f) && ImageFolder.hasImageExtension(f)).sorted().forEach(out::add);
                } catch (IOException | UncheckedIOException e) {
                    System.err.println("graft: cannot list " + p + ": " + e.getMessage());
                }
            } else {
                out.add(p);
            }
        }
        return out;
    }
}
