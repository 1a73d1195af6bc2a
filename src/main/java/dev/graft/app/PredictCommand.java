package dev.graft.app;

import dev.graft.data.BadImageException;
import dev.graft.data.ImageDecoder;
import dev.graft.data.ImageFolder;
import dev.graft.data.RgbImage;
import dev.graft.model.Torch;
import picocli.CommandLine.Command;
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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/** Classifies images with a trained bundle: a table on the terminal, or JSON lines. */
@Command(name = "predict", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Classify images (files or folders) with a trained model bundle.")
final class PredictCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "model bundle (the --out folder of graft train)")
    Path model;

    @Parameters(arity = "1..*", paramLabel = "IMAGE|DIR", description = "images, or folders searched recursively")
    List<Path> inputs;

    @Option(names = "--top-k", defaultValue = "5")
    int topK;

    @Option(names = "--json", description = "one JSON object per line: {\"file\":..., \"predictions\":[{\"label\":..., \"probability\":...}]}")
    boolean json;

    @Option(names = "--batch-size", defaultValue = "16")
    int batchSize;

    @Option(names = "--max-pixels", defaultValue = "" + ImageDecoder.DEFAULT_MAX_PIXELS)
    long maxPixels;

    @Option(names = "--threads", defaultValue = "0")
    int threads;

    @Override
    public Integer call() throws Exception {
        Torch.threads(threads);
        List<Path> files = expand(inputs);
        int predicted = 0;
        int failed = 0;
        try (Classifier c = Classifier.load(model, maxPixels)) {
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
                        } catch (java.util.concurrent.ExecutionException e) {
                            failed++;
                            String why = e.getCause() instanceof BadImageException b ? b.getMessage() : chunk.get(i) + ": " + e.getCause();
                            System.err.println("graft: skipping " + why);
                            if (json) {
                                System.out.println(Runs.JSON.createObjectNode().put("file", chunk.get(i).toString())
                                        .put("error", e.getCause() instanceof BadImageException b ? b.reason() : String.valueOf(e.getCause()))
                                        .toString());
                            }
                        }
                    }
                    if (imgs.isEmpty()) {
                        continue;
                    }
                    List<List<Classifier.Prediction>> preds = c.predict(imgs, topK);
                    for (int i = 0; i < ok.size(); i++) {
                        print(ok.get(i), preds.get(i));
                        predicted++;
                    }
                }
            } finally {
                pool.shutdownNow();
            }
        }
        if (!json) {
            System.err.printf(Locale.ROOT, "graft: %d image(s) predicted, %d skipped%n", predicted, failed);
        }
        return predicted > 0 ? 0 : 1;
    }

    private void print(Path f, List<Classifier.Prediction> preds) {
        if (json) {
            var node = Runs.JSON.createObjectNode().put("file", f.toString());
            var arr = node.putArray("predictions");
            for (Classifier.Prediction p : preds) {
                arr.addObject().put("label", p.label()).put("index", p.index()).put("probability", p.probability());
            }
            System.out.println(node.toString());
        } else {
            StringBuilder sb = new StringBuilder(f.toString());
            for (Classifier.Prediction p : preds) {
                sb.append(String.format(Locale.ROOT, "\t%s %.4f", p.label(), p.probability()));
            }
            System.out.println(sb);
        }
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
