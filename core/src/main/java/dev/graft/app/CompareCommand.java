package dev.graft.app;

import dev.graft.run.Console;
import dev.graft.run.OutputFolder;
import dev.graft.run.RunFolder;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.model.nn.Torch;
import dev.graft.report.CompareReport;
import dev.graft.train.EpochMetrics;
import dev.graft.train.FineTuning;
import dev.graft.train.Recipe;
import dev.graft.train.RunConfig;
import dev.graft.train.StopSignal;
import dev.graft.util.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Runs several modes on the same data in the same order, over several seeds, and prints one table: per mode the
 * final train loss, train accuracy and test accuracy as mean +- std over seeds, examples/sec and wall time.
 */
@Command(name = "compare", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Compare finetune / scratch / frozen / source-class / probe on the same data, over seeds.")
final class CompareCommand implements Callable<Integer> {
    @Mixin
    DataOptions data;

    @Mixin
    RecipeOptions recipe;

    @Option(names = "--modes", split = ",", defaultValue = "finetune,scratch,frozen,source-class,probe",
            description = "modes to run; source-class is finetune with the head started from the source classifier. Default: ${DEFAULT-VALUE}")
    List<String> modes;

    @Option(names = "--seeds", split = ",", defaultValue = "1", description = "seeds; each mode runs once per seed. Default: ${DEFAULT-VALUE}")
    List<Long> seeds;

    @Option(names = "--out", defaultValue = "runs/compare", description = "output folder: compare.json, compare.html, one sub-folder per run")
    Path out;

    @Option(names = "--save-models", description = "also write a model bundle for every run")
    boolean saveModels;

    @Option(names = "--overwrite", description = "replace the runs of an earlier compare in --out")
    boolean overwrite;

    /** One run's outcome. */
    record Run(String mode, long seed, double trainLoss, double trainAcc, double testAcc, double examplesPerSec, double seconds,
               List<EpochMetrics> history, String selection) {
        /** Which model an auto run kept, or null. */
        String kept() {
            return selection == null ? null : selection.startsWith("kept the probe") ? "probe" : "fine-tuned";
        }
    }

    @Override
    public Integer call() throws Exception {
        data.root(); // --data or --labels is required
        Torch.threads(data.threads);
        StopSignal stop = Interrupts.interruptible(System.out);
        if (Files.isDirectory(out) && !OutputFolder.isEmpty(out) && !Files.isRegularFile(out.resolve("compare.json"))
                && !overwrite) {
            throw new IllegalArgumentException("--out " + out + " is not empty and holds no earlier compare; choose a new or empty folder");
        }
        Files.createDirectories(out);
        int trainSize = data.trainSize(recipe.recipe);
        Map<String, List<Run>> byMode = new LinkedHashMap<>();
        for (String mode : modes) {
            // "source-class" is finetune with the head started from the source classifier (the book's exercise 4)
            boolean sourceClass = mode.equalsIgnoreCase("source-class");
            for (long seed : seeds) {
                Recipe r0 = recipe.resolve(sourceClass ? Recipe.Mode.FINETUNE : Recipe.Mode.parse(mode),
                        sourceClass ? Recipe.HeadInit.SOURCE_CLASS : recipe.headInit, seed, trainSize, data.model);
                RunConfig cfg = data.config(r0, 0).build();
                System.out.println("\n== " + mode + ", seed " + seed + " ==");
                FineTuning.Result r = RunFolder.train(cfg, out.resolve(mode + "-seed" + seed), overwrite, System.out,
                        Interrupts.interactive(), stop, saveModels);
                EpochMetrics last = r.history().get(r.history().size() - 1);
                // epoch 0 (the probe head, before any training step) has no training speed
                double rate = r.history().stream().mapToDouble(EpochMetrics::examplesPerSec).filter(Double::isFinite)
                        .average().orElse(Double.NaN);
                byMode.computeIfAbsent(mode, k -> new ArrayList<>()).add(new Run(mode, seed, last.trainLoss(), last.trainAcc(),
                        r.testAcc(), rate, r.seconds(), r.history(), r.selection()));
            }
        }
        List<String[]> rows = new ArrayList<>();
        ObjectNode root = Json.object();
        root.put("data", data.data.toString());
        root.put("model", data.model);
        root.put("recipe", recipe.recipe.name().toLowerCase(java.util.Locale.ROOT));
        root.set("seeds", Json.tree(seeds));
        ArrayNode list = root.putArray("modes");
        for (Map.Entry<String, List<Run>> e : byMode.entrySet()) {
            List<Run> runs = e.getValue();
            double[] acc = runs.stream().mapToDouble(Run::testAcc).toArray();
            ObjectNode n = list.addObject();
            n.put("mode", e.getKey());
            n.put("test_acc", mean(acc));
            n.put("test_acc_std", std(acc));
            n.put("train_loss", mean(runs.stream().mapToDouble(Run::trainLoss).toArray()));
            n.put("train_acc", mean(runs.stream().mapToDouble(Run::trainAcc).toArray()));
            n.put("examples_per_sec", mean(runs.stream().mapToDouble(Run::examplesPerSec).toArray()));
            n.put("wall_seconds", mean(runs.stream().mapToDouble(Run::seconds).toArray()));
            ArrayNode per = n.putArray("seeds");
            for (Run r : runs) {
                per.addObject().put("seed", r.seed()).put("test_acc", r.testAcc()).put("train_loss", r.trainLoss())
                        .put("train_acc", r.trainAcc()).put("examples_per_sec", r.examplesPerSec()).put("wall_seconds", r.seconds())
                        .put("kept", r.kept());
            }
            rows.add(new String[] {e.getKey(), pm(runs.stream().mapToDouble(Run::trainLoss).toArray(), 3),
                    pm(runs.stream().mapToDouble(Run::trainAcc).toArray(), 3), pm(acc, 3),
                    String.format(Locale.ROOT, "%.1f", mean(runs.stream().mapToDouble(Run::examplesPerSec).toArray())),
                    Console.human(mean(runs.stream().mapToDouble(Run::seconds).toArray()))});
        }
        List<String> notes = spreadNotes(byMode);
        root.set("notes", Json.tree(notes));
        Json.write(out.resolve("compare.json"), root);
        String table = Table.render(new String[] {"mode", "train loss", "train acc", "test acc", "examples/sec", "time/run"}, rows);
        Map<String, List<List<EpochMetrics>>> histories = new LinkedHashMap<>();
        byMode.forEach((k, v) -> histories.put(k, v.stream().map(Run::history).toList()));
        Files.writeString(out.resolve("compare.html"), CompareReport.render(data.data + " (" + data.model + ", recipe " + recipe.recipe + ")",
                table, notes, histories), StandardCharsets.UTF_8);
        System.out.println("\n" + table);
        notes.forEach(System.out::println);
        System.out.println("seeds " + seeds + "; mean +- std over seeds; compare.json and compare.html written to " + out);
        return 0;
    }

    /**
     * Honesty about variance: for each pair of modes whose mean test accuracies differ by less than the larger of
     * their seed-to-seed standard deviations, a sentence saying these seeds do not separate them.
     */
    static List<String> spreadNotes(Map<String, List<Run>> byMode) {
        List<String> notes = new ArrayList<>();
        List<String> modes = new ArrayList<>(byMode.keySet());
        for (int i = 0; i < modes.size(); i++) {
            for (int j = i + 1; j < modes.size(); j++) {
                double[] a = byMode.get(modes.get(i)).stream().mapToDouble(Run::testAcc).toArray();
                double[] b = byMode.get(modes.get(j)).stream().mapToDouble(Run::testAcc).toArray();
                if (a.length < 2 || b.length < 2) {
                    continue;
                }
                double diff = Math.abs(mean(a) - mean(b));
                double spread = Math.max(std(a), std(b));
                if (diff < spread) {
                    notes.add(String.format(Locale.ROOT, "%s and %s differ by %.4f in mean test accuracy, less than the "
                            + "seed-to-seed spread (%.4f): these seeds do not tell them apart", modes.get(i), modes.get(j), diff, spread));
                }
            }
        }
        return notes;
    }

    static double mean(double[] v) {
        double s = 0;
        int n = 0;
        for (double x : v) {
            if (!Double.isNaN(x)) {
                s += x;
                n++;
            }
        }
        return n == 0 ? Double.NaN : s / n;
    }

    static double std(double[] v) {
        double m = mean(v);
        double s = 0;
        int n = 0;
        for (double x : v) {
            if (!Double.isNaN(x)) {
                s += (x - m) * (x - m);
                n++;
            }
        }
        return n < 2 ? 0 : Math.sqrt(s / (n - 1));
    }

    static String pm(double[] v, int digits) {
        String f = "%." + digits + "f";
        return v.length > 1 ? String.format(Locale.ROOT, f + " ± " + f, mean(v), std(v)) : String.format(Locale.ROOT, f, mean(v));
    }
}
