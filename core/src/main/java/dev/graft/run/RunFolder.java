package dev.graft.run;

import ai.djl.ndarray.NDManager;
import dev.graft.report.HtmlReport;
import dev.graft.report.MetricsJson;
import dev.graft.train.Bundle;
import dev.graft.train.Checkpoint;
import dev.graft.train.FineTuning;
import dev.graft.train.RunConfig;
import dev.graft.train.RunContext;
import dev.graft.train.StopSignal;
import dev.graft.train.TrainOptions;
import dev.graft.train.TrainingListener;
import dev.graft.util.AtomicFolder;
import dev.graft.util.Json;
import dev.graft.weights.Downloader;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The output folder of one training run: config.json first (enough for --resume), the checkpoint while it runs,
 * then the bundle, metrics.json and report.html. It never overwrites what is not a graft run's, and replaces a
 * finished run only when asked to.
 * <p>
 * The folder is always one complete run: the finished files are written beside it and moved into place together
 * ({@link AtomicFolder}). A run that replaces an earlier one ({@code --overwrite}) works in {@code DIR/.graft-next}
 * (its config.json, checkpoint and sweep), so until it has finished {@code DIR} is the earlier run, whole: its
 * model predicts, and {@code --resume DIR} continues the new run.
 */
public final class RunFolder {
    static final String CONFIG = "config.json";
    static final String CHECKPOINT = "checkpoint.safetensors";
    /** Where a run that replaces an earlier one works until it has finished. */
    static final String NEXT = ".graft-next";
    /** Every file graft writes into a run folder: what a replacing run removes when it does not write it again. */
    static final List<String> RUN_FILES = java.util.stream.Stream.concat(Bundle.FILES.stream(), Stream.of(CONFIG, CHECKPOINT,
            CHECKPOINT + ".tmp", "metrics.json", "report.html", "lr-find.html", "lr-find.json", NEXT)).toList();
    /** Where this run writes while it runs: the folder, or {@link #NEXT} inside it when it replaces an earlier run. */
    public final Path dir;
    /** The run folder (--out). */
    public final Path target;

    private RunFolder(Path dir, Path target) {
        this.dir = dir;
        this.target = target;
    }

    /**
     * A folder for a new run: {@code out}, or without it a fresh {@code runs/<mode>-N}. An existing folder must be
     * empty, or an earlier graft run's with {@code overwrite}; never inside the data folder.
     */
    public static RunFolder forNewRun(Path out, RunConfig cfg, boolean overwrite, PrintStream console) throws IOException {
        Path dir = out != null ? out : OutputFolder.fresh(Path.of("runs"), cfg.recipe().mode().label());
        // compared as real paths: a symbolic link (to the data, or inside it) must not hide that the run would write there
        Path data = OutputFolder.real(cfg.data());
        Path target = OutputFolder.real(dir);
        if (cfg.labels() == null && target.startsWith(data)) {
            throw new IllegalArgumentException("--out " + dir + " is inside the data folder " + cfg.data()
                    + "; the run would write its files among the images. Choose a folder outside it");
        }
        if (cfg.labels() != null) {
            // images listed in a CSV can be anywhere: refuse only a folder that holds some of them (or the CSV)
            boolean holdsImages = target.equals(OutputFolder.real(cfg.labels()).getParent()) || dev.graft.data.CsvLabels.read(cfg.labels(), cfg.data())
                    .stream().anyMatch(r -> OutputFolder.real(r.file()).startsWith(target));
            if (holdsImages) {
                throw new IllegalArgumentException("--out " + dir + " holds images listed in " + cfg.labels()
                        + " (or the CSV itself); the run would write its files among them. Choose another folder");
            }
        }
        if (Files.isDirectory(dir)) {
            AtomicFolder.recover(dir);
        }
        boolean replacing = OutputFolder.claim(dir, overwrite, RunFolder::isGraftRun, "run", (Bundle.isBundle(dir) ? " (a trained model)" : ""),
                ", --resume " + dir + " to continue it");
        if (replacing) {
            console.println("replacing the earlier run in " + dir + " (--overwrite); it stays there, whole, until this run has finished");
        }
        if (out == null) {
            console.println("output folder: " + dir + " (choose one with --out)");
        }
        RunFolder f;
        if (replacing) {
            Path next = dir.resolve(NEXT);
            AtomicFolder.deleteTree(next); // an earlier --overwrite run that never finished: this one starts over
            Files.createDirectories(next);
            f = new RunFolder(next, dir);
        } else {
            f = new RunFolder(dir, dir);
            Files.deleteIfExists(f.checkpointFile());
        }
        Json.write(f.dir.resolve(CONFIG), cfg);
        return f;
    }

    /** The folder of an interrupted run, to resume. */
    public static RunFolder forResume(Path dir) {
        return forResume(dir, System.out);
    }

    /** The folder of an interrupted run, to resume: the run in it, or the --overwrite run that was replacing it. */
    public static RunFolder forResume(Path dir, PrintStream console) {
        AtomicFolder.recover(dir);
        Path next = dir.resolve(NEXT);
        if (Files.isRegularFile(next.resolve(CONFIG))) {
            if (!Files.isRegularFile(next.resolve(CHECKPOINT))) {
                throw new IllegalArgumentException("the --overwrite run started in " + dir + " stopped before its first checkpoint, so there "
                        + "is nothing to resume; the earlier run in " + dir + " is intact. Start the new run again (with --overwrite)");
            }
            console.println("resuming the --overwrite run in " + dir + " (the earlier run stays there, whole, until this one has finished)");
            return new RunFolder(next, dir);
        }
        if (!Files.isRegularFile(dir.resolve(CONFIG))) {
            throw new IllegalArgumentException(dir + " has no " + CONFIG + "; --resume needs the --out folder of an earlier graft train run");
        }
        RunFolder f = new RunFolder(dir, dir);
        if (!Files.isRegularFile(f.checkpointFile())) {
            throw new IllegalArgumentException(Bundle.isBundle(dir)
                    ? "the run in " + dir + " has finished (its model is there); nothing to resume"
                    : dir + " has no " + CHECKPOINT + " to resume from (the run stopped before its first checkpoint; start it again)");
        }
        return f;
    }

    /** A folder graft wrote: a run's config.json (with its "recipe"), or a model bundle. */
    public static boolean isGraftRun(Path dir) {
        if (Bundle.isBundle(dir)) {
            return true;
        }
        try {
            return Files.isRegularFile(dir.resolve(CONFIG)) && Json.read(dir.resolve(CONFIG)).has("recipe");
        } catch (IOException e) {
            return false;
        }
    }

    public RunConfig readConfig() throws IOException {
        return Json.MAPPER.readValue(dir.resolve(CONFIG).toFile(), RunConfig.class);
    }

    public Path checkpointFile() {
        return dir.resolve(CHECKPOINT);
    }

    public Checkpoint.State checkpoint() throws IOException {
        return Checkpoint.load(checkpointFile());
    }

    /** What FineTuning.run needs, with this folder's checkpoint and the console listener first among the extras. */
    public RunContext context(RunConfig cfg, NDManager manager, PrintStream console, boolean progressBar, StopSignal stop,
                       Checkpoint.State resume, boolean resumeAnyway, List<TrainingListener> extra) {
        List<TrainingListener> listeners = new ArrayList<>();
        listeners.add(new Console(console, progressBar));
        listeners.addAll(extra);
        return new RunContext(new Downloader(Downloader.defaultCache(), console::println, progressBar), manager,
                TrainOptions.of(cfg, console::println), listeners, stop, checkpointFile(), resume, resumeAnyway);
    }

    /** A context for a learning-rate sweep: downloads and console output, no checkpoint. */
    public static RunContext sweepContext(RunConfig cfg, NDManager manager, PrintStream console, boolean progressBar) {
        return new RunContext(new Downloader(Downloader.defaultCache(), console::println, progressBar), manager,
                TrainOptions.of(cfg, console::println), List.of(), new StopSignal(), null, null, false);
    }

    public void writeConfig(RunConfig cfg) throws IOException {
        Json.write(dir.resolve(CONFIG), cfg);
    }

    /**
     * Writes the bundle (unless {@code saveModel} is false), metrics.json and report.html beside the folder's files,
     * then moves them into place at once, dropping the checkpoint; a run that replaces an earlier one brings its
     * config.json and sweep along, and the earlier run's files it does not write again are removed in the same step.
     */
    public void finish(FineTuning.Result r, RunConfig cfg, boolean saveModel, PrintStream console) throws IOException {
        Path staged = AtomicFolder.stage(target);
        if (saveModel) {
            Bundle.writeFiles(staged, r, cfg);
        }
        MetricsJson.write(staged.resolve("metrics.json"), r, cfg);
        Files.writeString(staged.resolve("report.html"), HtmlReport.forRun(r, cfg), StandardCharsets.UTF_8);
        boolean replacing = !dir.equals(target);
        if (replacing) {
            for (String n : List.of(CONFIG, "lr-find.html", "lr-find.json")) {
                if (Files.isRegularFile(dir.resolve(n))) {
                    Files.copy(dir.resolve(n), staged.resolve(n));
                }
            }
        }
        failBeforeCommit(staged);
        AtomicFolder.commit(target, staged, replacing ? RUN_FILES : List.of(CHECKPOINT, CHECKPOINT + ".tmp"));
        Console.finished(console, r, cfg, target, saveModel);
    }

    /** For tests of the atomic write: a fault injected after the new files are written and before they are moved into place. */
    public static volatile java.util.function.Consumer<Path> beforeCommit = p -> { };

    private static void failBeforeCommit(Path staged) {
        beforeCommit.accept(staged);
    }

    /** A whole run into {@code dir} (compare and demo): folder, training, results. */
    public static FineTuning.Result train(RunConfig cfg, Path dir, boolean overwrite, PrintStream console, boolean progressBar,
                                   StopSignal stop, boolean saveModel) throws IOException {
        RunFolder f = forNewRun(dir, cfg, overwrite, console);
        try (NDManager m = dev.graft.model.nn.Torch.newManager()) {
            FineTuning.Result r = FineTuning.run(cfg, f.context(cfg, m, console, progressBar, stop, null, false, List.of()));
            f.finish(r, cfg, saveModel, console);
            return r;
        }
    }

}
