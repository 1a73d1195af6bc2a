package dev.graft.train;

import dev.graft.check.CheckInput;
import dev.graft.check.CheckResult;
import dev.graft.check.DataCheck;
import dev.graft.data.BadImages;
import dev.graft.data.DataSplits;
import dev.graft.data.ImageFolder;
import dev.graft.data.Preprocessing;
import dev.graft.model.Architecture;
import dev.graft.model.Architectures;
import dev.graft.model.Backbone;
import dev.graft.model.Network;
import dev.graft.model.nn.Layers;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The data check ({@link DataCheck}) on what a run computes anyway: the untouched source model's features of every
 * image and the linear probe's lambda. {@link #run} is {@code graft check}: the run's data and source model as
 * {@link FineTuning} loads them, the features (through the {@link FeatureCache} train shares), lambda by the probe's
 * cross-validation, then {@link #onFeatures}. {@link #onFeatures} is what a training run calls with the features it
 * already has; its only cost over them is the out-of-fold fits (one per fold) and the detectors.
 */
public final class DataCheckRun {
    private DataCheckRun() {
    }

    /** What graft check produced: the findings, the data and preprocessing they are about, skipped images and timing. */
    public record Outcome(CheckResult result, DataSplits data, Preprocessing preprocessing, Backbone source, BadImages badImages,
                          FeatureCache cache, Map<String, Double> stageSeconds) {
    }

    /** graft check: data, source model, features (cached), probe lambda by cross-validation, then every detector. */
    public static Outcome run(RunConfig cfg, RunContext ctx, FeatureCache.Progress progress) {
        Consumer<String> log = ctx.opts().log();
        Map<String, Double> stages = new java.util.LinkedHashMap<>();
        long t0 = System.nanoTime();
        long seed = cfg.recipe().seed();
        // every training image is checked: no validation split is carved
        DataSplits data = DataSplits.load(cfg.source(), cfg.perClass(), cfg.testPerClass(), 0, seed, log);
        List<String> classes = data.classes();
        log.accept(FineTuning.describe(data));
        Architecture arch = Architectures.get(cfg.model());
        Preprocessing pre = FineTuning.preprocessing(cfg, arch);
        Backbone source = Backbone.load(arch, cfg.weights(), true, ctx.downloader(), pre, log);
        Network net = source.newNetwork(classes.size(), new Layers(ctx.manager()));
        net.compute().setPrecision(cfg.precision());
        source.copyBody(net);
        log.accept("model: " + source.architecture().name() + " from " + source.source() + "; preprocessing: " + pre.describe()
                + "; " + cfg.precision().describe());
        long t1 = System.nanoTime();
        stages.put("data and source model", (t1 - t0) / 1e9);
        FeatureCache cache = FeatureCache.of(source, cfg.classifier(), net, pre, log);
        BadImages bad = new BadImages(log);
        FeatureSet train = cache.compute(net, data.train(), pre, ctx.opts(), bad, progress);
        FeatureSet test = cache.compute(net, data.test(), pre, ctx.opts(), bad, progress);
        long t2 = System.nanoTime();
        stages.put("features", (t2 - t1) / 1e9);
        log.accept(String.format(Locale.ROOT, "features: %d image(s) from the cache, %d computed, %.1f s%s", cache.hits(), cache.computed(),
                (t2 - t1) / 1e9, cache.file() == null ? " (not cached on disk)" : " (cache " + cache.file() + ")"));
        LinearProbe.CrossValidation cv = new LinearProbe(classes.size(), train.dim()).crossValidate(train.sorted(), seed);
        long t3 = System.nanoTime();
        stages.put("probe lambda", (t3 - t2) / 1e9);
        log.accept("probe: " + cv.describe());
        CheckResult r = onFeatures(cfg.data(), data, train, null, test, cv.lambda(), cv.folds(), cache, seed);
        stages.put("out-of-fold probe and detectors", (System.nanoTime() - t3) / 1e9);
        return new Outcome(r, data, pre, source, bad, cache, stages);
    }

    /**
     * The check on a run's source features: training ({@code train}, with {@code validation} when the recipe holds one
     * out; both are training images here) and test. Out-of-fold probabilities come from probes at {@code lambda} on
     * {@code folds} stratified folds of all training images; pixel spreads from {@code cache} (null: unknown, then no
     * image is called blank). Names are shown relative to {@code root}.
     */
    public static CheckResult onFeatures(Path root, DataSplits data, FeatureSet train, FeatureSet validation, FeatureSet test,
                                         double lambda, int folds, FeatureCache cache, long seed) {
        List<String> classes = data.classes();
        FeatureSet all = (validation == null ? train : train.concat(validation)).sorted();
        double[][] oof = new LinearProbe(classes.size(), all.dim()).outOfFold(all, lambda, Math.max(2, folds), seed);
        Map<String, double[]> byId = new HashMap<>();
        for (int i = 0; i < all.size(); i++) {
            byId.put(all.ids()[i], oof[i]);
        }
        CheckInput.Builder b = CheckInput.builder(classes, all.dim());
        add(b, root, data.train(), train, CheckInput.Split.TRAIN, byId, cache);
        if (validation != null) {
            add(b, root, data.validation(), validation, CheckInput.Split.VALID, byId, cache);
        }
        if (test != null) {
            add(b, root, data.test(), test, CheckInput.Split.TEST, null, cache);
        }
        return DataCheck.run(b.build());
    }

    private static void add(CheckInput.Builder b, Path root, ImageFolder folder, FeatureSet fs, CheckInput.Split split,
                            Map<String, double[]> oof, FeatureCache cache) {
        int d = fs.dim();
        for (int i = 0; i < fs.size(); i++) {
            Path file = folder.samples().get(fs.samples()[i]).path();
            float[] x = Arrays.copyOfRange(fs.features(), i * d, (i + 1) * d);
            b.add(new CheckInput.Image(file, name(root, file), fs.labels()[i], split), x,
                    oof == null ? null : oof.get(fs.ids()[i]), cache == null ? Float.NaN : cache.spread(file),
                    cache == null ? null : cache.thumbnail(file));
        }
    }

    static String name(Path root, Path file) {
        Path a = file.toAbsolutePath().normalize();
        Path r = root == null ? null : root.toAbsolutePath().normalize();
        return r != null && a.startsWith(r) ? r.relativize(a).toString() : file.toString();
    }
}
