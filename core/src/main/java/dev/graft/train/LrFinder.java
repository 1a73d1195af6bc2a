package dev.graft.train;

import dev.graft.data.BadImages;
import dev.graft.data.DataSplits;
import dev.graft.data.Preprocessing;
import dev.graft.model.Architecture;
import dev.graft.model.Architectures;
import dev.graft.model.Backbone;
import dev.graft.model.Network;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * fastai's lr_find on graft's own training step: the learning rate, as a mean-loss rate (fastai's unit), grows
 * exponentially from 1e-7 to 10 over 100 steps (every parameter group keeps its ratio to the base rate, so the head
 * stays at its multiple), the loss is smoothed (exponential average, beta 0.98, debiased), the sweep stops when it
 * exceeds 4x the best, and the suggestion is the "valley" rule: two thirds along the longest run of falling losses.
 * The network is the one the recipe will train (the source body, the recipe's head start: Xavier for the book, the
 * probe for the default; its loss with label smoothing and class weights; the head alone when --freeze-epochs
 * makes the first phase head-only), built fresh and freed afterwards.
 */
public final class LrFinder {
    static final double BETA = 0.98;
    /** fastai's lr_find defaults. */
    public static final int STEPS = 100;
    public static final double START = 1e-7;
    public static final double END = 10;

    /**
     * The sweep: mean-loss learning rates tried, smoothed losses, the suggested mean-loss rate, and the same as the
     * recipe's --lr (for the book's summed loss: divided by the batch size).
     */
    public record Sweep(double[] lrs, double[] losses, double suggestion, double recipeLr, int steps) {
        public String describe() {
            return String.format(Locale.ROOT, "lr-find: suggested mean-loss learning rate %.2g (--lr %.2g for this recipe), "
                    + "from %d steps between %.1e and %.2g", suggestion, recipeLr, steps, lrs[0], lrs[lrs.length - 1]);
        }
    }

    private LrFinder() {
    }

    /** The sweep with fastai's defaults: 100 steps from 1e-7 to 10. */
    public static Sweep run(RunConfig cfg, RunContext ctx) {
        return run(cfg, ctx, STEPS, START, END);
    }

    public static Sweep run(RunConfig cfg, RunContext ctx, int steps, double start, double end) {
        Recipe recipe = cfg.recipe();
        if (recipe.mode() == Recipe.Mode.PROBE) {
            throw new IllegalArgumentException("lr-find sweeps a learning rate for gradient descent; --mode probe fits its head in closed form "
                    + "and has none. Use --mode finetune, frozen or scratch");
        }
        try (ai.djl.ndarray.NDManager sub = ctx.manager().newSubManager()) {
            return sweep(cfg, ctx, sub, steps, start, end);
        }
    }

    private static Sweep sweep(RunConfig cfg, RunContext ctx, ai.djl.ndarray.NDManager manager, int steps, double start, double end) {
        Recipe recipe = cfg.recipe().withoutSearch();
        Consumer<String> log = ctx.opts().log();
        DataSplits data = DataSplits.load(cfg.source(), cfg.perClass(), cfg.testPerClass(), recipe.selection().validation(), recipe.seed(), x -> { });
        Architecture arch = Architectures.get(cfg.model());
        Preprocessing pre = FineTuning.preprocessing(cfg, arch);
        Backbone source = Backbone.load(arch, cfg.weights(), recipe.mode() != Recipe.Mode.SCRATCH, ctx.downloader(), pre, log);
        BadImages bad = new BadImages(x -> { });
        // the network that will train: the same body, the same head start (the default's: the probe), the same loss
        Network net = FineTuning.targetNetwork(cfg, source, data.classes().size(), manager, log);
        SourceFeatures features = new SourceFeatures(net, data, pre, ctx.opts(), bad);
        FineTuning.initHead(recipe, net, source, data.classes(), features, log);
        double base = recipe.meanLossLr();
        // the mean-loss rate at step i: start (end / start)^(i / (steps - 1)); each group keeps its ratio to it
        LrSchedule sweep = step -> start * Math.pow(end / start, Math.min(step, steps - 1) / (double) (steps - 1)) / base;
        List<double[]> points = new ArrayList<>();
        StopSignal stop = new StopSignal();
        TrainingListener recorder = new TrainingListener() {
            double avg;
            double best = Double.POSITIVE_INFINITY;

            @Override
            public void onBatch(Trainer t, BatchSource.Batch b, float lossSum) {
                long i = t.progress().step - 1;
                double loss = lossSum / b.size();
                avg = BETA * avg + (1 - BETA) * loss;
                double smooth = avg / (1 - Math.pow(BETA, i + 1));
                points.add(new double[] {base * sweep.factor(i), smooth});
                best = Math.min(best, smooth);
                if (!Double.isFinite(smooth) || smooth > 4 * best || i + 1 >= steps) {
                    stop.request();
                }
            }
        };
        // with --freeze-epochs the first phase trains the head alone: sweep that phase, as fastai's lr_find on a frozen learner
        boolean headOnly = recipe.schedule().freezeEpochs() > 0;
        int perEpoch = Math.max(1, data.train().size() / recipe.schedule().batchSize());
        Recipe r = recipe.with(recipe.schedule().withEpochs((int) Math.ceil(steps / (double) perEpoch) + 1)).with(new Recipe.Selection(0, 0, false))
                .toBuilder().freezeEpochs(0).mode(headOnly ? Recipe.Mode.FROZEN : recipe.mode()).build();
        Training.Setup setup = new Training.Setup(pre, ctx.opts(), bad, features, log, stop);
        try (Training t = Training.of(r, net, new Training.Folders(data.train(), null, null), setup, null, List.of(recorder), sweep)) {
            t.trainer.fit();
        } catch (StoppedException expected) {
            // the sweep's end: enough steps, or the loss ran away (the network goes with the caller's sub-manager)
        }
        double[] lrs = points.stream().mapToDouble(p -> p[0]).toArray();
        double[] losses = points.stream().mapToDouble(p -> p[1]).toArray();
        double suggestion = valley(lrs, losses, steps);
        Sweep sw = new Sweep(lrs, losses, suggestion, suggestion * recipe.optimization().lr() / recipe.meanLossLr(), points.size());
        log.accept(sw.describe());
        return sw;
    }

    /**
     * fastai's valley rule on the points after the first tenth of the planned steps and before the last five: the
     * longest run of decreasing losses (longest decreasing subsequence ending at each point), and the rate two
     * thirds along it.
     */
    static double valley(double[] lrs, double[] losses, int plannedSteps) {
        int from = Math.min(plannedSteps / 10, Math.max(0, lrs.length - 7));
        int to = Math.max(from + 1, lrs.length - 5);
        int n = to - from;
        if (n < 2) {
            return lrs.length == 0 ? Double.NaN : lrs[lrs.length / 2];
        }
        int[] lds = new int[n];
        java.util.Arrays.fill(lds, 1);
        int maxStart = 0;
        int maxEnd = 0;
        for (int i = 1; i < n; i++) {
            for (int j = 0; j < i; j++) {
                if (losses[from + i] < losses[from + j] && lds[i] < lds[j] + 1) {
                    lds[i] = lds[j] + 1;
                }
                if (lds[maxEnd] < lds[i]) {
                    maxEnd = i;
                    maxStart = maxEnd - lds[maxEnd];
                }
            }
        }
        double sections = (maxEnd - maxStart) / 3.0;
        int idx = maxStart + (int) sections + (int) (sections / 2);
        return lrs[from + Math.max(0, Math.min(n - 1, idx))];
    }
}
