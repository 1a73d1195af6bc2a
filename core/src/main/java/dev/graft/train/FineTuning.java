package dev.graft.train;

import dev.graft.check.CheckResult;
import dev.graft.data.BadImages;
import dev.graft.data.DataSplits;
import dev.graft.data.Preprocessing;
import dev.graft.data.Transforms;
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
 * recipe keeps whichever of the probe and the fine-tuned network does better on held-out training images.
 */
public final class FineTuning {
    private FineTuning() {
    }

    /**
     * Everything a finished run produced: the network, where it came from, the data, per-epoch metrics, the test
     * predictions, skipped images, how the head started, the source's zero-shot accuracy, the total and per-stage
     * seconds, which model the run kept and why ({@code selection}, null when there was no choice), the models it had
     * ready along the way (time to accuracy), warnings, and the data check on the source features (null when the run
     * computed none).
     */
    public record Result(Network net, Backbone backbone, DataSplits data, Preprocessing preprocessing,
                         List<EpochMetrics> history, Evaluation testEval, BadImages badImages, String headInit,
                         String zeroShot, double seconds, Map<String, Double> stages, String selection, List<Milestone> milestones,
                         Evaluation ttaEval, List<String> warnings, CheckResult check) {
        public List<String> classes() {
            return data.classes();
        }

        public double testAcc() {
            return testEval == null ? Double.NaN : testEval.accuracy();
        }
    }

    public static Result run(RunConfig cfg, RunContext ctx) {
        Stages stages = new Stages();
        List<Milestone> milestones = new ArrayList<>();
        Recipe recipe = cfg.recipe();
        TrainOptions opts = ctx.opts();
        Consumer<String> log = opts.log();
        boolean scratch = recipe.mode() == Recipe.Mode.SCRATCH;

        // the target data set: the book's train/test folders (a validation split when the recipe keeps one)
        DataSplits data = DataSplits.load(cfg.source(), cfg.perClass(), cfg.testPerClass(), recipe.validation(), recipe.seed(), log);
        List<String> classes = data.classes();
        log.accept(String.format(Locale.ROOT, "data: %d classes %s, %d train images %s%s, %d test images", classes.size(), classes,
                data.train().size(), Arrays.toString(data.train().countPerClass()),
                data.validation() == null ? "" : ", " + data.validation().size() + " validation", data.test().size()));
        List<String> warnings = ctx.resume() == null ? List.of() : checkResume(ctx, data, recipe, log);
        warnImbalance(data.train().countPerClass(), classes, recipe, log);

        // 1. the source model, pretrained on ImageNet
        Architecture arch = Architectures.get(cfg.model());
        Preprocessing pre = preprocessing(cfg, arch);
        Backbone source = Backbone.load(arch, cfg.weights(), !scratch, ctx.downloader(), pre, log);

        // 2. the target model copies every layer and parameter of the source except its output layer
        Network net = source.newNetwork(classes.size(), new Layers(ctx.manager(),
                recipe.bnMomentum() == null ? null : recipe.bnMomentum().floatValue()));
        net.compute().setPrecision(cfg.precision());
        BadImages bad = new BadImages(log);
        // the untouched source's features, computed once for every stage that does not train the body: the probe
        // that starts the default recipe's head, its validation and test figures, and the zero-shot accuracy
        FeatureSet probeTrain = null;
        FeatureSet probeVal = null;
        FeatureSet probeTest = null;
        Probe.Head probe = null;
        FeatureCache features = null;
        CheckResult check = null;
        String zeroShot = null;
        if (scratch) {
            source.initScratch(net, recipe.seed());
        } else {
            source.copyBody(net);
            if (recipe.headInit() == Recipe.HeadInit.PROBE && recipe.mode() != Recipe.Mode.PROBE) {
                // through the feature cache graft check shares (by image content, for this source model)
                features = FeatureCache.of(source, cfg.classifier(), net, pre, log);
                probeTrain = features.compute(net, data.train(), pre, opts, bad, FeatureCache.Progress.NONE);
                probeVal = data.validation() == null ? null : features.compute(net, data.validation(), pre, opts, bad, FeatureCache.Progress.NONE);
                probeTest = features.compute(net, data.test(), pre, opts, bad, FeatureCache.Progress.NONE);
            }
            FeatureSet test = probeTest;
            zeroShot = ZeroShot.measure(source, data, () -> test != null ? test : FeatureSet.compute(net, data.test(), pre, opts, bad));
        }
        stages.lap("data and source model");

        // 3. ... and gets a new output layer with one output per target class
        if (probeTrain != null) {
            probe = Probe.fit(probeTrain, classes.size(), recipe.seed());
            double acc = new LinearProbe(classes.size(), net.featureDim()).accuracy(probe.fit(), probeTest);
            stages.lap("probe");
            log.accept(String.format(Locale.ROOT, "the probe is ready after %.1f s: test accuracy %.4f (not used for any choice)%s",
                    stages.total(), acc, probeVal != null ? "; fine-tuning next, then the choice on the validation images" : ""));
            milestones.add(new Milestone("probe on the training images", stages.total(), acc));
            // the data check on the same features and the probe's lambda (docs/DATA_CHECK.md)
            check = DataCheckRun.onFeatures(cfg.data(), data, probeTrain, probeVal, probeTest, probe.cv().lambda(), probe.cv().folds(),
                    features, recipe.seed());
            log.accept(check.summary());
            stages.lap("data check");
        }
        String headInit;
        if (ctx.resume() != null) {
            headInit = "from the checkpoint";
        } else if (scratch) {
            headInit = "scratch: every parameter random (" + source.architecture().name() + "'s framework init)";
        } else {
            headInit = switch (recipe.headInit()) {
                case XAVIER -> HeadInit.xavier(net, recipe.seed());
                case SOURCE_CLASS -> HeadInit.sourceClass(net, source, classes, log);
                case PROBE -> probe == null ? "probe" : HeadInit.probe(net, probe, probeTrain.size(), log);
            };
        }
        stages.lap("head");
        log.accept("model: " + source.architecture().name() + " from " + source.source() + ", new output layer "
                + net.headName() + " " + net.featureDim() + " -> " + classes.size() + " (" + headInit + ")");
        log.accept("preprocessing: " + pre.describe() + "; " + cfg.precision().describe());
        log.accept(recipe.describe());
        if (recipe.mode() == Recipe.Mode.PROBE) {
            Probe.Outcome p = Probe.run(net, data, pre, opts, bad, recipe.seed(), log);
            stages.lap("probe");
            milestones.add(new Milestone("final model", stages.total(), p.test() == null ? Double.NaN : p.test().accuracy()));
            Evaluation tta = tta(cfg, net, data, pre, opts, bad, stages, log);
            return new Result(net, source, data, pre, p.history(), p.test(), bad, headInit, zeroShot, stages.total(),
                    stages.done(log), null, milestones, tta, warnings, check);
        }

        // 4. train: the copied layers at a small learning rate, the new output layer at ten times it
        ParamGroups groups = scratch ? ParamGroups.single(net, recipe.lr())
                : ParamGroups.layered(net, recipe.lr(), recipe.lr() * recipe.headLrMult(), recipe.lrGroups() - 1, recipe.lrMinRatio());
        net.setFrozenBody(recipe.mode() == Recipe.Mode.FROZEN);
        net.compute().setBatchNormStatisticsFrozen(recipe.frozenBatchNorm());
        boolean cache = net.isFrozenBody() && !recipe.augment() && opts.cacheFeatures();
        FeatureSet cachedTrain = null;
        FeatureSet cachedVal = null;
        FeatureSet cachedTest = null;
        if (cache) {
            log.accept("computing body features once (frozen body, no augmentation)");
            cachedTrain = FeatureSet.compute(net, data.train(), pre, opts, bad);
            cachedVal = data.validation() == null ? null : FeatureSet.compute(net, data.validation(), pre, opts, bad);
            cachedTest = FeatureSet.compute(net, data.test(), pre, opts, bad);
        }
        Transforms.ImageTransform augment = recipe.augment()
                ? Transforms.randomResizedCrop(pre, recipe.minCropScale(), 1.0, 3.0 / 4.0, 4.0 / 3.0, true) : Transforms.bookTest(pre);
        EpochEvaluation evaluation = new EpochEvaluation(data, pre, opts, bad, cachedVal, cachedTest, recipe.testEachEpoch());
        KeepBestEpoch best = new KeepBestEpoch(log);
        List<TrainingListener> listeners = new ArrayList<>(List.of(new DivergenceGuard(
                ctx.checkpoint() == null ? null : ctx.checkpoint().toString()), evaluation, best, new EarlyStopping(recipe.patience(), log)));
        if (recipe.freezeEpochs() > 0) {
            listeners.add(0, new GradualUnfreezing(recipe.freezeEpochs(), log));
        }
        listeners.addAll(ctx.listeners());
        if (ctx.checkpoint() != null) {
            listeners.add(new Checkpointing(ctx.checkpoint(), cfg.checkpointEvery(), RunIdentity.of(data, recipe), log));
        }
        Loss loss = new Loss(recipe.lossReduction(), recipe.labelSmoothing(),
                recipe.classWeights() == Recipe.ClassWeights.BALANCED ? Loss.balanced(data.train().countPerClass()) : null);
        BatchSource images = cache ? BatchSource.features(cachedTrain, data.train(), recipe.batchSize(), recipe.seed())
                : BatchSource.images(data.train(), augment, pre, recipe.batchSize(), recipe.seed(), opts, bad);
        if (recipe.freezeEpochs() > 0 && !cache && !recipe.augment() && opts.cacheFeatures()) {
            // the head-only epochs see the same untouched features every epoch: compute them once
            FeatureSet frozen = probeTrain != null ? probeTrain : FeatureSet.compute(net, data.train(), pre, opts, bad);
            images = BatchSource.phased(BatchSource.features(frozen, data.train(), recipe.batchSize(), recipe.seed()), images,
                    recipe.freezeEpochs());
        }
        Trainer trainer;
        try (BatchSource batches = Mixing.of(images, recipe.mixup(), recipe.cutmix(), classes.size(), recipe.seed())) {
            trainer = new Trainer(net, groups, LrSchedule.of(recipe, (long) batches.batchesPerEpoch() * recipe.epochs()),
                    new GroupedSgd(recipe.weightDecay(), recipe.momentum()), loss, batches,
                    recipe.epochs(), recipe.seed(), listeners, ctx.stop());
            if (ctx.resume() != null) {
                trainer.resume(ctx.resume());
                log.accept("resuming at epoch " + (trainer.state().epoch + 1) + ", batch " + (trainer.state().batch + 1));
            }
            trainer.fit();
        }
        stages.lap("training");

        // the default recipe keeps the fine-tuned network only if it beat the probe on held-out images
        String selection = null;
        boolean probeKept = false;
        if (probe != null && probeVal != null) {
            ModelSelection.Decision d = ModelSelection.select(net, source, data, pre, opts, bad, probe, probeTrain, probeVal, recipe.seed(), log);
            selection = d.why();
            probeKept = !d.fineTuned();
            stages.lap("selection");
        }
        // evaluate on the test images: the last epoch's figures when they belong to the final weights; a kept probe
        // from the test features already computed
        Evaluation test = probeKept ? Evaluator.onFeatures(net, probeTest)
                : best.restored() || evaluation.lastTest() == null ? evaluation.test(net) : evaluation.lastTest();
        stages.lap("test");
        milestones.add(new Milestone("final model", stages.total(), test == null ? Double.NaN : test.accuracy()));
        Evaluation tta = tta(cfg, net, data, pre, opts, bad, stages, log);
        return new Result(net, source, data, pre, trainer.state().history, test, bad, headInit, zeroShot, stages.total(),
                stages.done(log), selection, milestones, tta, warnings, check);
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
        if (min > 0 && max > 3L * min && recipe.classWeights() == Recipe.ClassWeights.NONE) {
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
        Preprocessing p = arch.weights().preprocessing();
        if (cfg.normalization() == RunConfig.Normalization.IMAGENET) {
            p = p.withNormalization(Preprocessing.IMAGENET_MEAN, Preprocessing.IMAGENET_STD);
        } else if (cfg.normalization() == RunConfig.Normalization.MINUS1TO1) {
            p = p.withNormalization(new float[] {.5f, .5f, .5f}, new float[] {.5f, .5f, .5f});
        }
        if (cfg.imageSize() > 0 && cfg.imageSize() != p.crop()) {
            p = p.withCrop(cfg.imageSize());
        }
        return cfg.shortSide() ? p.withShortSide(true) : p;
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

        Map<String, Double> done(Consumer<String> log) {
            StringBuilder sb = new StringBuilder("time per stage:");
            seconds.forEach((k, v) -> sb.append(String.format(Locale.ROOT, " %s %.1f s;", k, v)));
            log.accept(sb.substring(0, sb.length() - 1));
            return java.util.Collections.unmodifiableMap(new LinkedHashMap<>(seconds));
        }
    }
}
