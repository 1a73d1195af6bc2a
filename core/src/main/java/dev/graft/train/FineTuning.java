package dev.graft.train;

import dev.graft.check.CheckResult;
import dev.graft.data.BadImages;
import dev.graft.data.DataSplits;
import dev.graft.data.Preprocessing;
import dev.graft.model.Architecture;
import dev.graft.model.Architectures;
import dev.graft.model.Backbone;
import dev.graft.model.Network;
import dev.graft.model.nn.Layers;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The book's fine-tuning recipe from data to trained model, in the order the book tells it:
 * 1. take a source model pretrained on ImageNet; 2. make a target model that copies every layer and parameter but
 * the output layer; 3. add a new output layer with one output per target class (Xavier init); 4. train on the
 * target set, copied layers at a small learning rate and the new layer at 10x. Scratch trains the same network
 * from random weights; frozen trains the head alone; probe fits the head by logistic regression; the default
 * recipe searches over the probe and fine-tunes on held-out training images ({@link RecipeSearch}).
 */
public final class FineTuning {
    private FineTuning() {
    }

    /**
     * Everything a finished run produced: the network, where it came from, the data, per-epoch metrics, the test
     * predictions, skipped images, how the head started, the source's zero-shot accuracy, the total and per-stage
     * seconds, which model the run kept and why ({@code selection}, null when there was no choice), the models it had
     * ready along the way (time to accuracy), the test figures with test-time augmentation, warnings, the
     * default recipe's search (null for a single training run), and the data check on the source features (null
     * when the run computed none).
     */
    public record Result(Network net, Backbone backbone, DataSplits data, Preprocessing preprocessing,
                         List<EpochMetrics> history, Evaluation testEval, BadImages badImages, String headInit,
                         String zeroShot, double seconds, Map<String, Double> stages, String selection, List<Milestone> milestones,
                         Evaluation ttaEval, List<String> warnings, SearchReport search, CheckResult check) {
        public List<String> classes() {
            return data.classes();
        }

        public double testAcc() {
            return testEval == null ? Double.NaN : testEval.accuracy();
        }
    }

    public static Result run(RunConfig cfg, RunContext ctx) {
        Stages stages = new Stages();
        Recipe recipe = cfg.recipe();
        TrainOptions opts = ctx.opts();
        Consumer<String> log = opts.log();
        boolean scratch = recipe.mode() == Recipe.Mode.SCRATCH;

        // the target data set: the book's train/test folders (a validation split when the recipe keeps one)
        DataSplits data = DataSplits.load(cfg.source(), cfg.perClass(), cfg.testPerClass(), recipe.selection().validation(), recipe.seed(), log);
        log.accept(describe(data));
        List<String> warnings = ctx.resume() == null ? List.of() : checkResume(ctx, data, recipe, log);
        warnImbalance(data.train().countPerClass(), data.classes(), recipe, log);

        // 1. the source model, pretrained on ImageNet
        Architecture arch = Architectures.get(cfg.model());
        Preprocessing pre = preprocessing(cfg, arch);
        Backbone source = Backbone.load(arch, cfg.weights(), !scratch, ctx.downloader(), pre, log);

        // 2. the target model copies every layer and parameter of the source except its output layer
        Network net = targetNetwork(cfg, source, data.classes().size(), ctx.manager(), log);
        BadImages bad = new BadImages(log);
        // through the feature cache graft check shares (by image content, for this source model)
        SourceFeatures features = new SourceFeatures(net, data, pre, opts, bad,
                scratch ? null : FeatureCache.of(source, cfg.classifier(), net, pre, log));
        String zeroShot = scratch ? null : ZeroShot.measure(source, data, features::test);
        stages.lap("data and source model");

        // 3. ... and gets a new output layer with one output per target class
        List<Milestone> milestones = new ArrayList<>();
        HeadStart h = initHead(recipe, net, source, data.classes(), features, log);
        Probe.Head probe = h.probe();
        String headInit = ctx.resume() == null ? h.description() : "from the checkpoint (" + h.description() + ")";
        if (probe != null) {
            double acc = new LinearProbe(data.classes().size(), net.featureDim()).accuracy(probe.fit(), features.test());
            log.accept(String.format(Locale.ROOT, "the probe is ready after %.1f s: test accuracy %.4f (not used for any choice)",
                    stages.total(), acc));
            milestones.add(new Milestone("probe on the training images", stages.total(), acc));
        }
        stages.lap("head");
        // the data check on the same features and the probe's lambda (docs/DATA_CHECK.md)
        CheckResult check = probe == null ? null : DataCheckRun.onFeatures(cfg.data(), data, features.train(), features.validation(),
                features.test(), probe.cv().lambda(), probe.cv().folds(), features.cache(), recipe.seed());
        if (check != null) {
            log.accept(check.summary());
            stages.lap("data check");
        }
        log.accept("model: " + source.architecture().name() + " from " + source.source() + ", new output layer "
                + net.headName() + " " + net.featureDim() + " -> " + data.classes().size() + " (" + headInit + ")");
        log.accept("preprocessing: " + pre.describe() + "; " + cfg.precision().describe());
        log.accept(recipe.describe());

        // 4. train: the copied layers at a small learning rate, the new output layer at ten times it
        Training.Setup setup = new Training.Setup(pre, opts, bad, features, log, ctx.stop());
        Outcome out;
        if (recipe.mode() == Recipe.Mode.PROBE) {
            out = probeOnly(net, data, setup, recipe, features);
            stages.lap("probe");
        } else if (recipe.search() != null) {
            out = search(cfg, ctx, net, data, setup, probe, source, features, stages);
            stages.lap("search");
        } else {
            out = train(cfg, ctx, net, data, setup);
            stages.lap("training");
        }

        // the final model on the test images
        Evaluation test = out.test() != null ? out.test() : data.test() == null ? null
                : Evaluator.evaluate(net, data.test(), pre, opts, bad);
        stages.lap("test");
        milestones.add(new Milestone("final model", stages.total(), test == null ? Double.NaN : test.accuracy()));
        Evaluation tta = tta(cfg, net, data, pre, opts, bad, stages, log);
        return new Result(net, source, data, pre, out.history(), test, bad, headInit, zeroShot, stages.total(), stages.done(log),
                out.selection(), milestones, tta, warnings, out.search(), check);
    }

    /**
     * The target network: the source's architecture with a new output layer per class, the source's body copied in
     * (or every parameter random, from scratch), at the run's precision, its kernels tuned for this machine
     * ({@link dev.graft.model.Tuning}).
     */
    static Network targetNetwork(RunConfig cfg, Backbone source, int classes, ai.djl.ndarray.NDManager manager, Consumer<String> log) {
        Recipe r = cfg.recipe();
        Network net = source.newNetwork(classes, new Layers(manager,
                r.regularisation().bnMomentum() == null ? null : r.regularisation().bnMomentum().floatValue()));
        net.compute().setPrecision(cfg.precision());
        if (dev.graft.model.Tuning.enabled()) {
            // memory order and kernels as measured fastest (and correct) on this machine, once per machine and model
            dev.graft.model.Tuning.tuneAndApply(net, preprocessing(cfg, source.architecture()).crop(),
                    dev.graft.weights.Downloader.defaultCache(), log);
        }
        if (r.mode() == Recipe.Mode.SCRATCH) {
            source.initScratch(net, r.seed());
        } else {
            source.copyBody(net);
        }
        return net;
    }

    /** How the head started, and the probe when it was fitted for it. */
    record HeadStart(String description, Probe.Head probe) {
    }

    /** The recipe's head start: scratch's framework init, Xavier (the book), the source's rows, or the probe (LP-FT). */
    static HeadStart initHead(Recipe r, Network net, Backbone source, List<String> classes, SourceFeatures features, Consumer<String> log) {
        if (r.mode() == Recipe.Mode.SCRATCH) {
            return new HeadStart("scratch: every parameter random (" + source.architecture().name() + "'s framework init)", null);
        }
        if (r.mode() == Recipe.Mode.PROBE) {
            return new HeadStart("probe", null);
        }
        return switch (r.headInit()) {
            case XAVIER -> new HeadStart(NewHead.xavier(net, r.seed()), null);
            case SOURCE_CLASS -> new HeadStart(NewHead.sourceClass(net, source, classes, log), null);
            case PROBE -> {
                Probe.Head p = Probe.fit(features.train(), classes.size(), r.seed());
                yield new HeadStart(NewHead.probe(net, p, features.train().size(), log), p);
            }
        };
    }

    /** What the training step produced: its epochs, the test predictions when it already has them, the choice made and the search. */
    private record Outcome(List<EpochMetrics> history, Evaluation test, String selection, SearchReport search) {
    }

    /** --mode probe: the head by logistic regression on the source features, no gradient step. */
    private static Outcome probeOnly(Network net, DataSplits data, Training.Setup s, Recipe recipe, SourceFeatures features) {
        Probe.Outcome p = Probe.run(net, data, s, recipe.seed(), features);
        return new Outcome(p.history(), p.test(), null, null);
    }

    /** One training loop of the recipe (book, scratch, frozen, or any hand-made recipe). */
    private static Outcome train(RunConfig cfg, RunContext ctx, Network net, DataSplits data, Training.Setup s) {
        Recipe r = cfg.recipe();
        Training.Folders f = new Training.Folders(data.train(), data.validation(), data.test());
        Checkpointing.Target target = ctx.checkpoint() == null ? null
                : Checkpointing.Target.single(ctx.checkpoint(), cfg.checkpointEvery(), RunIdentity.of(data, r));
        try (Training t = Training.of(r, net, f, s, target, ctx.listeners())) {
            s.features().seal();
            if (ctx.resume() != null) {
                t.trainer.restore(ctx.resume().run());
                s.log().accept("resuming at epoch " + (t.trainer.progress().epoch + 1) + ", batch " + (t.trainer.progress().batch + 1));
            }
            t.trainer.fit();
            return new Outcome(t.trainer.progress().history, t.test(), null, null);
        }
    }

    /** The default recipe: the probe against fine-tunes raced on the validation images, the winner given every image. */
    private static Outcome search(RunConfig cfg, RunContext ctx, Network net, DataSplits data, Training.Setup s, Probe.Head probe,
                                  Backbone source, SourceFeatures features, Stages stages) {
        Recipe r = cfg.recipe();
        Evaluation probeVal = new LinearProbe(net.numClasses(), net.featureDim()).evaluate(probe.fit(), features.validation());
        features.allTraining(); // the refit on every image needs the untouched body's features: now, before training changes it
        features.seal();
        double perEpoch = r.search().quality() == Recipe.Quality.FAST
                ? StepTiming.secondsPerImage(net, r.schedule().batchSize(), s.pre().crop()) * data.train().size()
                        + features.secondsPerImage() * data.validation().size() : 0;
        SearchPlan.Plan plan = SearchPlan.of(r, net, perEpoch);
        Deadline deadline = new Deadline(r.search().timeLimitSeconds(), stages.startNanos());
        RecipeSearch search = new RecipeSearch(r, net, data, s, plan, deadline, ctx.checkpoint(), cfg.checkpointEvery(),
                RunIdentity.of(data, r), ctx.listeners());
        RecipeSearch.Outcome o = search.run(probe, probeVal, ctx.resume(), source);
        return new Outcome(o.history(), null, o.report().decision(), o.report());
    }

    /** The data line: every class with its count, or beyond a dozen classes their number and the smallest, median and largest. */
    static String describe(DataSplits data) {
        List<String> classes = data.classes();
        int[] counts = data.train().countPerClass();
        String perClass;
        if (classes.size() <= 12) {
            perClass = classes + ", " + data.train().size() + " train images " + Arrays.toString(counts);
        } else {
            int[] sorted = counts.clone();
            Arrays.sort(sorted);
            perClass = String.format(Locale.ROOT, "(%s ... %s), %d train images, per class smallest %d, median %d, largest %d "
                    + "(every class in metrics.json and the report)", classes.get(0), classes.get(classes.size() - 1), data.train().size(),
                    sorted[0], sorted[sorted.length / 2], sorted[sorted.length - 1]);
        }
        return String.format(Locale.ROOT, "data: %d classes %s%s, %d test images", classes.size(), perClass,
                data.validation() == null ? "" : " and " + data.validation().size() + " more held out for validation",
                data.test() == null ? 0 : data.test().size());
    }

    /** With --tta N: the final model's test figures with test-time augmentation, reported next to the plain ones. */
    static Evaluation tta(RunConfig cfg, Network net, DataSplits data, Preprocessing pre, TrainOptions opts, BadImages bad,
                          Stages stages, Consumer<String> log) {
        if (cfg.tta() <= 0 || data.test() == null) {
            return null;
        }
        Evaluation e = Evaluator.evaluateTta(net, data.test(), pre, opts, bad, cfg.tta());
        stages.lap("test-time augmentation");
        log.accept(String.format(Locale.ROOT, "test accuracy with test-time augmentation (%d views mixed 0.75/0.25 with the plain "
                + "prediction): %.4f", cfg.tta(), e.accuracy()));
        return e;
    }

    /** Keras's advice, as a warning: classes imbalanced beyond 1:3 are worth weighting. */
    static void warnImbalance(int[] counts, List<String> classes, Recipe recipe, Consumer<String> log) {
        int min = Arrays.stream(counts).min().orElse(0);
        int max = Arrays.stream(counts).max().orElse(0);
        if (min > 0 && max > 3L * min && recipe.regularisation().classWeights() == Recipe.ClassWeights.NONE) {
            int lo = 0;
            int hi = 0;
            for (int c = 0; c < counts.length; c++) {
                lo = counts[c] == min ? c : lo;
                hi = counts[c] == max ? c : hi;
            }
            log.accept(String.format(Locale.ROOT, "warning: the training classes are imbalanced beyond 1:3 (%s has %d images, %s %d): "
                    + "accuracy can hide a class the model ignores; consider --class-weights balanced", classes.get(lo), min, classes.get(hi), max));
        }
    }

    /**
     * A resume continues bit-exactly only on the same data and recipe: refuses, saying what changed, unless the
     * user insists (then the run's report says so). A changed class count cannot resume at all.
     */
    static List<String> checkResume(RunContext ctx, DataSplits data, Recipe recipe, Consumer<String> log) {
        List<String> diffs = RunIdentity.differences(ctx.resume().identity(), RunIdentity.of(data, recipe));
        if (diffs.isEmpty()) {
            return List.of();
        }
        int savedClasses = ctx.resume().identity().path("classes").size();
        if (savedClasses != data.classes().size()) {
            throw new IllegalArgumentException("cannot resume: " + String.join("; ", diffs) + ". The checkpoint's model has "
                    + savedClasses + " outputs; start a new run for " + data.classes().size() + " classes");
        }
        if (!ctx.resumeAnyway()) {
            throw new IllegalArgumentException("refusing to resume, the run would no longer be the one checkpointed: "
                    + String.join("; ", diffs) + ". Start a new run, put the data back, or add --resume-anyway");
        }
        List<String> out = new ArrayList<>();
        for (String d : diffs) {
            out.add("resumed with --resume-anyway although " + d);
            log.accept("warning: " + out.get(out.size() - 1));
        }
        return out;
    }

    /** The weights' own preprocessing, with the user's size, resize and normalization choices. */
    public static Preprocessing preprocessing(RunConfig cfg, Architecture arch) {
        return preprocessing(arch, cfg.normalization(), cfg.imageSize(), cfg.shortSide());
    }

    /** The weights' own preprocessing with the user's choices (graft train's, and the Spark jobs'). */
    public static Preprocessing preprocessing(Architecture arch, RunConfig.Normalization normalization, int imageSize, boolean shortSide) {
        Preprocessing p = arch.weights().preprocessing();
        if (normalization == RunConfig.Normalization.IMAGENET) {
            p = p.withNormalization(Preprocessing.IMAGENET_MEAN, Preprocessing.IMAGENET_STD);
        } else if (normalization == RunConfig.Normalization.MINUS1TO1) {
            p = p.withNormalization(new float[] {.5f, .5f, .5f}, new float[] {.5f, .5f, .5f});
        }
        if (imageSize > 0 && imageSize != p.crop()) {
            p = p.withCrop(imageSize);
        }
        return shortSide ? p.withShortSide(true) : p;
    }

    /** A model the run had ready, when, and its test accuracy (reported only, never used for a choice). */
    public record Milestone(String what, double seconds, double testAcc) {
    }

    /** Wall-clock seconds of each stage of a run, in order. */
    static final class Stages {
        private final long start = System.nanoTime();
        private long last = start;
        private final Map<String, Double> seconds = new LinkedHashMap<>();

        void lap(String name) {
            long now = System.nanoTime();
            seconds.merge(name, (now - last) / 1e9, Double::sum);
            last = now;
        }

        double total() {
            return (System.nanoTime() - start) / 1e9;
        }

        long startNanos() {
            return start;
        }

        Map<String, Double> done(Consumer<String> log) {
            StringBuilder sb = new StringBuilder("time per stage:");
            seconds.forEach((k, v) -> sb.append(String.format(Locale.ROOT, " %s %.1f s;", k, v)));
            log.accept(sb.substring(0, sb.length() - 1));
            return java.util.Collections.unmodifiableMap(new LinkedHashMap<>(seconds));
        }
    }
}
