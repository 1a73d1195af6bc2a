package dev.graft.run;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.graft.model.nn.Torch;
import dev.graft.train.BatchSource;
import dev.graft.train.EpochMetrics;
import dev.graft.train.Trainer;
import dev.graft.train.TrainingListener;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;

/**
 * What a person sees during training: the time estimate before starting, a progress bar with ETA while an epoch
 * runs, and after each epoch the book's line (loss, train acc, test acc, examples/sec).
 */
public final class Console implements TrainingListener {
    private final PrintStream out;
    private final boolean bar;
    private ProgressBar progress;
    private boolean estimated;

    /** Prints to {@code out}; with {@code bar}, a progress bar while an epoch runs (for terminals). */
    public Console(PrintStream out, boolean bar) {
        this.out = out;
        this.bar = bar;
    }

    /** The time estimate once per run (a search's candidates start many loops); each loop's epoch 0. */
    @Override
    public void onStart(Trainer t) {
        if (!estimated) {
            estimated = true;
            estimate(t);
        }
        EpochMetrics start = t.progress().last();
        if (start != null && start.epoch() == 0 && t.progress().epoch == 0) {
            out.printf(Locale.ROOT, "epoch 0 (before training): val acc %.3f, val loss %.3f%s%n", start.valAcc(), start.valLoss(),
                    Double.isNaN(start.testAcc()) ? "" : String.format(Locale.ROOT, ", test acc %.3f", start.testAcc()));
        }
    }

    private void estimate(Trainer t) {
        double rate = estimateRate(t);
        int batches = t.data().batchesPerEpoch();
        int epochsLeft = t.epochs() - t.progress().epoch;
        long batchesLeft = (long) epochsLeft * batches - t.progress().batch;
        int perBatch = t.data().batchSize();
        double seconds = rate > 0 ? batchesLeft * perBatch / rate : Double.NaN;
        out.printf(Locale.ROOT, "estimated time: about %s for %s (~%.1f images/s measured here), plus evaluation after each epoch%n",
                human(seconds), t.progress().epoch == 0 && t.progress().batch == 0 ? epochsLeft + " epoch(s) of " + batches + " batches"
                        : "the " + batchesLeft + " batches left of " + epochsLeft + " epoch(s)", rate);
    }

    /**
     * Times forward passes on a few random inputs; a training step costs about 3 forwards (backward is 2x), a step on
     * cached features next to nothing.
     */
    static double estimateRate(Trainer t) {
        if (t.data().features()) {
            return Double.POSITIVE_INFINITY;
        }
        int size = t.data().imageSize();
        int n = Math.min(16, t.data().batchSize());
        double best = Double.MAX_VALUE;
        try (NDManager m = t.network().manager().newSubManager()) {
            NDArray x = m.randomNormal(new Shape(n, 3, size, size));
            for (int i = 0; i < 2; i++) {
                long t0 = System.nanoTime();
                Torch.noGrad(() -> t.network().apply(x, false).toFloatArray());
                best = Math.min(best, (System.nanoTime() - t0) / 1e9);
            }
        }
        return n / (best * (t.network().isFrozenBody() ? 1.1 : 3.0));
    }

    /** Seconds as a person reads them (42 s, 3.5 min, 1.2 h). */
    public static String human(double seconds) {
        if (Double.isNaN(seconds)) {
            return "unknown";
        }
        Duration d = Duration.ofSeconds((long) seconds);
        if (d.toHours() > 0) {
            return String.format(Locale.ROOT, "%dh%02dm", d.toHours(), d.toMinutesPart());
        }
        if (d.toMinutes() > 0) {
            return String.format(Locale.ROOT, "%dm%02ds", d.toMinutes(), d.toSecondsPart());
        }
        return d.toSeconds() + "s";
    }

    @Override
    public void onBatch(Trainer t, BatchSource.Batch b, float lossSum) {
        if (!bar) {
            return;
        }
        dev.graft.train.Progress s = t.progress();
        if (progress == null) {
            progress = new ProgressBarBuilder().setTaskName(String.format(Locale.ROOT, "epoch %d/%d", s.epoch + 1, t.epochs()))
                    .setInitialMax(t.data().batchesPerEpoch()).setStyle(ProgressBarStyle.ASCII).setUnit(" batches", 1)
                    .setUpdateIntervalMillis(500).continuousUpdate().startsFrom(s.batch - 1, Duration.ZERO).build();
        }
        progress.stepTo(s.batch);
        if (s.seen > 0) {
            progress.setExtraMessage(String.format(Locale.ROOT, "loss %.3f acc %.3f", s.lossSum / s.seen, (double) s.correct / s.seen));
        }
    }

    @Override
    public void onEpoch(Trainer t) {
        if (progress != null) {
            progress.close();
            progress = null;
        }
        out.println(bookLine(t.progress().last(), t.epochs()));
    }

    static String bookLine(EpochMetrics m, int epochs) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "epoch %d/%d: loss %.3f, train acc %.3f", m.epoch(), epochs,
                m.trainLoss(), m.trainAcc()));
        if (!Double.isNaN(m.valAcc())) {
            sb.append(String.format(Locale.ROOT, ", val acc %.3f", m.valAcc()));
        }
        if (!Double.isNaN(m.testAcc())) {
            sb.append(String.format(Locale.ROOT, ", test acc %.3f", m.testAcc()));
        }
        sb.append(String.format(Locale.ROOT, ", %.1f examples/sec", m.examplesPerSec()));
        if (!Double.isNaN(m.testExamplesPerSec())) {
            sb.append(String.format(Locale.ROOT, " (test %.1f/sec)", m.testExamplesPerSec()));
        }
        sb.append(String.format(Locale.ROOT, ", %s", human(m.seconds())));
        return sb.toString();
    }

    @Override
    public void onEnd(Trainer t) {
        if (progress != null) {
            progress.close();
            progress = null;
        }
    }

    /** What a finished run says last: the per-class table, the test accuracy, what was kept, and where the files are. */
    public static void finished(PrintStream console, dev.graft.train.FineTuning.Result r, dev.graft.train.RunConfig cfg,
                                java.nio.file.Path target, boolean saveModel) {
        classSummary(console, r.testEval(), r.classes());
        if (r.ttaEval() != null) {
            console.printf(Locale.ROOT, "test accuracy with test-time augmentation (%d views): %.4f (plain %.4f)%n", cfg.tta(),
                    r.ttaEval().accuracy(), r.testAcc());
        }
        String kept = r.selection() == null ? "" : r.selection().startsWith("kept the probe") ? " (kept the probe)" : " (kept the fine-tuned network)";
        console.printf(Locale.ROOT, "%s%s: test accuracy %.4f after %d epoch(s), %s; %d image(s) skipped%s%n", cfg.recipe().mode().label(), kept,
                r.testAcc(), r.history().stream().filter(e -> e.epoch() > 0).count(), human(r.seconds()), r.badImages().count(),
                r.zeroShot() != null ? "; source model zero-shot: " + r.zeroShot() : "");
        console.println((saveModel ? "model, " : "") + "metrics.json and report.html written to " + target);
    }

    /**
     * The test set per class after a run: precision, recall, F1 and images per class (the 10 weakest by F1 when
     * there are more than 20 classes), macro and weighted averages, top-5 from 5 classes on, the most-confused pairs.
     */
    public static void classSummary(PrintStream out, dev.graft.train.Evaluation e, java.util.List<String> classes) {
        if (e == null || e.size() == 0) {
            return;
        }
        dev.graft.train.Evaluation.ClassReport rep = e.classReport(classes.size());
        java.util.List<dev.graft.train.Evaluation.ClassFigures> rows = new java.util.ArrayList<>(rep.classes());
        boolean many = rows.size() > 20;
        if (many) {
            rows.sort(java.util.Comparator.comparingDouble(dev.graft.train.Evaluation.ClassFigures::f1));
            rows = rows.subList(0, 10);
        }
        int width = Math.max(16, classes.stream().mapToInt(String::length).max().orElse(0) + 2);
        String fmt = "  %-" + width + "s %9s %7s %6s %7s%n";
        out.printf(Locale.ROOT, "test set per class%s:%n", many ? " (the 10 weakest by F1)" : "");
        out.printf(Locale.ROOT, fmt, "class", "precision", "recall", "F1", "images");
        for (dev.graft.train.Evaluation.ClassFigures f : rows) {
            out.printf(Locale.ROOT, fmt, classes.get(f.index()), num(f.precision()), num(f.recall()), num(f.f1()), f.support());
        }
        out.printf(Locale.ROOT, fmt, "macro average", num(rep.macro().precision()), num(rep.macro().recall()), num(rep.macro().f1()), rep.macro().support());
        out.printf(Locale.ROOT, fmt, "weighted average", num(rep.weighted().precision()), num(rep.weighted().recall()), num(rep.weighted().f1()),
                rep.weighted().support());
        if (classes.size() >= 5) {
            out.printf(Locale.ROOT, "top-5 accuracy %.4f%n", e.topK(5));
        }
        java.util.List<dev.graft.train.Evaluation.Confusion> confused = e.mostConfused(classes.size(), 3);
        if (!confused.isEmpty()) {
            StringBuilder sb = new StringBuilder("most confused (true -> predicted, images):");
            for (dev.graft.train.Evaluation.Confusion c : confused) {
                sb.append(String.format(Locale.ROOT, " %s -> %s %d;", classes.get(c.actual()), classes.get(c.predicted()), c.count()));
            }
            out.println(sb.substring(0, sb.length() - 1));
        }
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.3f", v);
    }
}
