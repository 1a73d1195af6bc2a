package dev.graft.app;

import dev.graft.run.OutputFolder;
import dev.graft.run.RunFolder;
import ai.djl.ndarray.NDManager;
import dev.graft.check.CheckJson;
import dev.graft.check.CheckResult;
import dev.graft.check.DataCheck;
import dev.graft.check.Suggestions;
import dev.graft.model.nn.Torch;
import dev.graft.report.CheckSection;
import dev.graft.train.DataCheckRun;
import dev.graft.train.FeatureCache;
import dev.graft.train.Recipe;
import dev.graft.train.RunConfig;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** graft check: what is wrong with the data (label errors, duplicates and leaks, outliers, confused classes), before training. */
@Command(name = "check", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Find what is wrong with the data before it costs accuracy: likely label errors (confident learning on a linear "
                + "probe's out-of-fold probabilities), exact and near duplicates within and across train/test (leaks), outliers and blank "
                + "images, and the classes the probe confuses. Uses the source model's features (cached with train's).",
            "Writes check.html (galleries), check.json and suggestions.csv (every image in the --labels format, flagged first: edit a "
                + "label, or write 'exclude' in its action column, then train --labels suggestions.csv --data DIR --exclude suggestions.csv: the CSV lies outside the data, so --data names where its images may come from). "
                + "Never moves, renames or deletes an image."})
final class CheckCommand implements Callable<Integer> {
    @Mixin
    DataOptions data;

    @Option(names = "--out", description = "folder for check.html, check.json and suggestions.csv (default: a fresh runs/check-N)")
    Path out;

    @Option(names = "--overwrite", description = "replace the earlier check or run in --out")
    boolean overwrite;

    @Option(names = "--seed", defaultValue = "1", description = "seeds the probe's folds. Default: ${DEFAULT-VALUE}")
    long seed;

    @Option(names = "--no-progress", description = "no progress bar (it is shown on terminals)")
    boolean noProgress;

    @Override
    public Integer call() throws Exception {
        data.root(); // --data or --labels is required
        Torch.threads(data.threads);
        RunConfig cfg = data.config(Recipe.auto(Recipe.Mode.PROBE, data.model, 0, seed), 0).build();
        Path dir = out != null ? out : OutputFolder.fresh(Path.of("runs"), "check");
        RunFolder.forNewRun(dir, cfg, overwrite, System.out);
        boolean bar = !noProgress && Interrupts.interactive();
        try (NDManager m = Torch.newManager()) {
            DataCheckRun.Outcome o = DataCheckRun.run(cfg, RunFolder.sweepContext(cfg, m, System.out, bar),
                    bar ? new BarProgress() : new LineProgress(System.out));
            CheckResult r = o.result();
            CheckJson.write(dir.resolve("check.json"), r);
            Suggestions.write(dir.resolve("suggestions.csv"), r);
            CheckSection.writePage(dir.resolve("check.html"), o, cfg);
            print(System.out, r);
            System.out.println("check.html, check.json and suggestions.csv written to " + dir + " (no image was moved, renamed or deleted)");
            System.out.println("to train on your edits: graft train --labels " + dir.resolve("suggestions.csv") + " --data " + cfg.data()
                    + " --exclude " + dir.resolve("suggestions.csv") + " ...");
        }
        return 0;
    }

    /** The summary and the first findings of each kind. */
    static void print(PrintStream out, CheckResult r) {
        out.println(r.summary());
        List<DataCheck.Finding> findings = DataCheck.findings(r);
        int shown = 0;
        for (DataCheck.Finding f : findings) {
            if (shown++ == 10) {
                out.printf(Locale.ROOT, "  ... %d more in suggestions.csv%n", findings.size() - 10);
                break;
            }
            out.printf(Locale.ROOT, "  %s: %s: %s%n", String.join("+", f.issues()), r.input().images().get(f.image()).name(), f.detail());
        }
    }

    /** A progress bar for the feature pass, on terminals. */
    static final class BarProgress implements FeatureCache.Progress {
        private ProgressBar bar;

        @Override
        public void start(String task, int total) {
            bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
                    .setUnit(" images", 1).setUpdateIntervalMillis(500).continuousUpdate().build();
        }

        @Override
        public void step(int done) {
            bar.stepTo(done);
        }

        @Override
        public void end() {
            if (bar != null) {
                bar.close();
                bar = null;
            }
        }
    }

    /** Without a terminal: one line when a pass starts. */
    record LineProgress(PrintStream out) implements FeatureCache.Progress {
        @Override
        public void start(String task, int total) {
            out.println("computing " + task);
        }

        @Override
        public void step(int done) {
        }

        @Override
        public void end() {
        }
    }
}
