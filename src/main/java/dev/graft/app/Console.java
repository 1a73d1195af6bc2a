package dev.graft.app;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
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
final class Console implements TrainingListener {
    private final PrintStream out;
    private final boolean bar;
    private ProgressBar progress;

    Console(PrintStream out, boolean bar) {
        this.out = out;
        this.bar = bar;
    }

    @Override
    public void onStart(Trainer t) {
        double rate = estimateRate(t);
        int images = t.data().train().size();
        int epochs = t.recipe().epochs();
        double seconds = rate > 0 ? images * (double) epochs / rate : Double.NaN;
        int testImages = t.data().test() == null ? 0 : t.data().test().size();
        out.printf(Locale.ROOT, "estimated time: about %s for %d epoch(s) of %d images (~%.1f images/s measured here), "
                        + "plus evaluation of %d test images per epoch%n",
                human(seconds), epochs, images, rate, testImages);
    }

    /** Times forward passes on a few random images; a training step costs about 3 forwards (backward is 2x). */
    static double estimateRate(Trainer t) {
        int size = t.data().preprocessing().crop();
        int n = Math.min(16, t.recipe().batchSize());
        try (NDManager m = t.network().manager().newSubManager()) {
            ParameterStore ps = new ParameterStore(m, false);
            NDArray x = m.randomNormal(new Shape(n, 3, size, size));
            double best = Double.MAX_VALUE;
            for (int i = 0; i < 2; i++) {
                long t0 = System.nanoTime();
                t.network().forward(ps, new NDList(x), false).singletonOrThrow().toFloatArray();
                best = Math.min(best, (System.nanoTime() - t0) / 1e9);
            }
            boolean frozen = t.recipe().mode() == dev.graft.train.Recipe.Mode.FROZEN;
            return n / (best * (frozen ? 1.1 : 3.0));
        }
    }

    static String human(double seconds) {
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
    public void onBatch(Trainer t, int epoch, int batch, int batchesPerEpoch, double loss, double acc) {
        if (!bar) {
            return;
        }
        if (progress == null) {
            progress = new ProgressBarBuilder().setTaskName(String.format(Locale.ROOT, "epoch %d/%d", epoch + 1, t.recipe().epochs()))
                    .setInitialMax(batchesPerEpoch).setStyle(ProgressBarStyle.ASCII).setUnit(" batches", 1)
                    .setUpdateIntervalMillis(500).continuousUpdate().startsFrom(batch, Duration.ZERO).build();
        }
        progress.stepTo(batch + 1);
        progress.setExtraMessage(String.format(Locale.ROOT, "loss %.3f acc %.3f", loss, acc));
    }

    @Override
    public void onEpoch(Trainer t, EpochMetrics m) {
        if (progress != null) {
            progress.close();
            progress = null;
        }
        out.println(bookLine(m, t.recipe().epochs()));
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
}
