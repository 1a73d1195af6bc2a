package dev.graft.train;

import ai.djl.ndarray.NDManager;
import dev.graft.data.BadImages;
import dev.graft.data.DataException;
import dev.graft.data.ImageFolder;
import dev.graft.data.Loader;
import dev.graft.data.Preprocessing;
import dev.graft.model.Backbone;
import dev.graft.model.KerasGraph;
import dev.graft.model.Layers;
import dev.graft.model.Network;
import dev.graft.weights.Downloader;
import dev.graft.weights.WeightsSpec;
import dev.graft.weights.Zoo;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * The book's fine-tuning recipe from data to trained model, in the order the book tells it:
 * 1. take a source model pretrained on ImageNet; 2. make a target model that copies every layer and parameter but
 * the output layer; 3. add a new output layer with one output per target class (Xavier init); 4. train on the
 * target set, copied layers at a small learning rate and the new layer at 10x. Scratch trains the same network
 * from random weights; frozen trains the head alone; probe fits the head by logistic regression.
 */
public final class FineTuning {
    private FineTuning() {
    }

    /** Everything a finished run produced. */
    public record Result(Network net, Backbone backbone, List<String> classes, Preprocessing preprocessing,
                         ImageFolder train, ImageFolder validation, ImageFolder test, List<EpochMetrics> history,
                         Evaluation testEval, BadImages badImages, String headInit, String zeroShot, double seconds,
                         String dataFingerprint) {
        public double testAcc() {
            return testEval == null ? Double.NaN : testEval.accuracy();
        }
    }

    /** Resolves the preprocessing: the weights' own, with the user's size and resize choices. */
    public static Preprocessing preprocessing(RunConfig cfg, WeightsSpec spec) {
        Preprocessing p = spec.preprocessing();
        if ("imagenet".equals(cfg.normalization())) {
            p = new Preprocessing(p.resize(), p.shortSide(), p.crop(), Preprocessing.IMAGENET_MEAN, Preprocessing.IMAGENET_STD);
        } else if ("minus1to1".equals(cfg.normalization())) {
            p = new Preprocessing(p.resize(), p.shortSide(), p.crop(), new float[] {.5f, .5f, .5f}, new float[] {.5f, .5f, .5f});
        }
        if (cfg.imageSize() > 0 && cfg.imageSize() != p.crop()) {
            p = new Preprocessing(Math.round(cfg.imageSize() * 256f / 224f), p.shortSide(), cfg.imageSize(), p.mean(), p.std());
        }
        return p.withShortSide(cfg.shortSide());
    }

    /** Loads the book's train/test folders, applies subsets and carves the validation split. */
    public static ImageFolder[] data(RunConfig cfg, Recipe recipe, Consumer<String> log) {
        ImageFolder.Splits s = ImageFolder.book(cfg.data());
        ImageFolder train = cfg.perClass() > 0 ? s.train().subset(cfg.perClass(), recipe.seed()) : s.train();
        ImageFolder test = cfg.testPerClass() > 0 ? s.test().subset(cfg.testPerClass(), recipe.seed()) : s.test();
        s.train().warnings().forEach(log);
        s.test().warnings().forEach(log);
        ImageFolder val = null;
        if (recipe.validation() > 0) {
            ImageFolder[] tv = train.splitValidation(recipe.validation(), recipe.seed());
            train = tv[0];
            val = tv[1];
        }
        if (train.size() == 0) {
            throw new DataException("no training images in " + cfg.data().resolve("train"));
        }
        return new ImageFolder[] {train, val, test};
    }

    public static Result run(RunConfig cfg, Downloader downloader, NDManager manager, TrainOptions opts,
                             List<TrainingListener> listeners, Checkpoint.State resume) {
        long t0 = System.nanoTime();
        Consumer<String> log = opts.log();
        Recipe recipe = cfg.recipe();
        ImageFolder[] d = data(cfg, recipe, log);
        ImageFolder train = d[0];
        ImageFolder val = d[1];
        ImageFolder test = d[2];
        List<String> classes = train.classes();
        int[] counts = train.countPerClass();
        log.accept(String.format(Locale.ROOT, "data: %d classes %s, %d train images %s%s, %d test images", classes.size(),
                classes, train.size(), Arrays.toString(counts), val == null ? "" : ", " + val.size() + " validation", test.size()));

        WeightsSpec spec = Zoo.get(cfg.model());
        if (cfg.classifier() != null) {
            spec = new WeightsSpec(spec.name(), spec.architecture(), spec.format(), spec.url(), spec.checksum(),
                    spec.preprocessing(), cfg.classifier(), spec.labels());
        }
        Preprocessing pre = preprocessing(cfg, spec);
        boolean needWeights = recipe.mode() != Recipe.Mode.SCRATCH;
        Backbone backbone = Backbone.load(spec, cfg.weights(), downloader, needWeights, pre, log);
        Network net = backbone.newNetwork(classes.size(), new Layers(manager,
                recipe.bnMomentum() == null ? null : recipe.bnMomentum().floatValue()));
        String headInit;
        if (resume != null) {
            headInit = "from the checkpoint"; // every parameter comes from there
        } else if (recipe.mode() == Recipe.Mode.SCRATCH) {
            backbone.initScratch(net, recipe.seed());
            headInit = "scratch: every parameter random (" + (backbone.graph() != null ? "Keras" : "torchvision") + " init)";
        } else {
            backbone.copyBody(net);
            net.initHeadXavier(recipe.seed());
            headInit = "xavier";
            if (recipe.headInit() == Recipe.HeadInit.SOURCE_CLASS) {
                headInit = initHeadFromSource(net, backbone, classes, log);
            } else if (recipe.headInit() == Recipe.HeadInit.PROBE && recipe.mode() != Recipe.Mode.PROBE) {
                headInit = initHeadFromProbe(net, new Trainer.Data(train, val, test, pre), opts, recipe, log);
            }
        }
        log.accept("model: " + backbone.architectureName() + " from " + backbone.source() + ", head " + net.headName()
                + " " + net.featureDim() + " -> " + classes.size() + " (" + headInit + ")");
        log.accept("preprocessing: " + pre.describe());
        log.accept(recipe.describe());

        Trainer.Data data = new Trainer.Data(train, val, test, pre);
        BadImages bad;
        List<EpochMetrics> history;
        Evaluation testEval;
        if (recipe.mode() == Recipe.Mode.PROBE) {
            Probe p = probe(net, data, opts, recipe, log);
            bad = p.bad;
            history = p.history;
            testEval = p.test;
        } else {
            Trainer trainer = new Trainer(net, recipe, data, opts, listeners);
            if (resume != null) {
                trainer.resumeFrom(resume);
                log.accept("resuming at epoch " + (resume.progress().epoch() + 1) + ", batch " + (resume.progress().batch() + 1));
            }
            history = trainer.fit();
            bad = trainer.badImages();
            testEval = trainer.lastTest();
        }
        String zeroShot = zeroShot(net, backbone, classes, data, opts, bad, recipe);
        return new Result(net, backbone, classes, pre, train, val, test, history, testEval, bad, headInit, zeroShot,
                (System.nanoTime() - t0) / 1e9, null);
    }

    /** The book's exercise 4: head rows of classes that exist in the source start from the source's rows. */
    static String initHeadFromSource(Network net, Backbone backbone, List<String> classes, Consumer<String> log) {
        KerasGraph.SourceClassifier src = backbone.classifier();
        if (src == null || backbone.sourceLabels().isEmpty()) {
            log.accept("source-class head init: the source model has no labelled classifier; keeping Xavier init");
            return "xavier (no source labels)";
        }
        int[] match = backbone.matchClasses(classes);
        List<String> lines = new ArrayList<>();
        int d = src.features();
        for (int t = 0; t < classes.size(); t++) {
            if (match[t] >= 0) {
                net.setHeadRow(t, Arrays.copyOfRange(src.weight(), match[t] * d, (match[t] + 1) * d), src.bias()[match[t]]);
                lines.add(classes.get(t) + " <- " + backbone.sourceLabels().get(match[t]) + " (source class " + match[t] + ")");
            } else {
                lines.add(classes.get(t) + " <- no source class (Xavier)");
            }
        }
        log.accept("source-class head init:\n  " + String.join("\n  ", lines));
        return "source-class: " + String.join("; ", lines);
    }

    /** LP-FT: the head starts as a logistic regression fitted on the body's features of the training images. */
    static String initHeadFromProbe(Network net, Trainer.Data data, TrainOptions opts, Recipe recipe, Consumer<String> log) {
        BadImages bad = new BadImages(s -> { });
        FeatureSet tr = FeatureSet.compute(net, data.train(), data.preprocessing(), opts, bad);
        LinearProbe lp = new LinearProbe(net.numClasses(), net.featureDim());
        double lambda = PROBE_HEAD_LAMBDA / Math.max(1, tr.size());
        LinearProbe.Fit fit = lp.fit(tr, lambda, 300);
        for (int c = 0; c < net.numClasses(); c++) {
            net.setHeadRow(c, Arrays.copyOfRange(fit.weight(), c * net.featureDim(), (c + 1) * net.featureDim()), fit.bias()[c]);
        }
        String msg = String.format(Locale.ROOT, "probe (logistic regression on %d feature vectors, lambda %.2g, train acc %.3f)",
                tr.size(), lambda, lp.accuracy(fit, tr));
        log.accept("head initialised by a linear " + msg);
        return msg;
    }

    /** Regularisation of the probe that starts LP-FT, times 1/n; stronger than a plain probe's so the head is not overconfident. */
    static final double PROBE_HEAD_LAMBDA = 10;

    /** Zero-shot accuracy of the source classifier restricted to the mapped classes, when every class maps. */
    static String zeroShot(Network net, Backbone backbone, List<String> classes, Trainer.Data data, TrainOptions opts,
                           BadImages bad, Recipe recipe) {
        if (backbone.classifier() == null || backbone.sourceLabels().isEmpty() || data.test() == null
                || recipe.mode() == Recipe.Mode.SCRATCH) {
            return null;
        }
        int[] match = backbone.matchClasses(classes);
        List<String> missing = new ArrayList<>();
        for (int t = 0; t < match.length; t++) {
            if (match[t] < 0) {
                missing.add(classes.get(t));
            }
        }
        if (!missing.isEmpty()) {
            return "not computed: " + missing + " match no source class";
        }
        FeatureSet fs = FeatureSet.compute(net, data.test(), data.preprocessing(), opts, bad);
        KerasGraph.SourceClassifier src = backbone.classifier();
        int d = src.features();
        int correct = 0;
        for (int n = 0; n < fs.size(); n++) {
            int best = -1;
            double bestV = Double.NEGATIVE_INFINITY;
            for (int t = 0; t < match.length; t++) {
                double v = src.bias()[match[t]];
                for (int j = 0; j < d; j++) {
                    v += src.weight()[match[t] * d + j] * fs.features()[n * d + j];
                }
                if (v > bestV) {
                    bestV = v;
                    best = t;
                }
            }
            if (best == fs.labels()[n]) {
                correct++;
            }
        }
        return String.format(Locale.ROOT, "%.4f", (double) correct / Math.max(1, fs.size()));
    }

    private record Probe(List<EpochMetrics> history, Evaluation test, BadImages bad) {
    }

    /** Logistic regression on cached features; lambda picked on the validation split when there is one. */
    static Probe probe(Network net, Trainer.Data data, TrainOptions opts, Recipe recipe, Consumer<String> log) {
        net.setFrozenBody(true);
        long t0 = System.nanoTime();
        BadImages bad = new BadImages(log);
        FeatureSet tr = FeatureSet.compute(net, data.train(), data.preprocessing(), opts, bad);
        FeatureSet va = data.validation() == null ? null : FeatureSet.compute(net, data.validation(), data.preprocessing(), opts, bad);
        double featureSeconds = (System.nanoTime() - t0) / 1e9;
        LinearProbe lp = new LinearProbe(net.numClasses(), net.featureDim());
        LinearProbe.Fit fit;
        if (va != null && va.size() > 0) {
            LinearProbe.Fit bestFit = null;
            double bestAcc = -1;
            for (double lambda : new double[] {1e-4, 1e-3, 1e-2, 1e-1}) {
                LinearProbe.Fit f = lp.fit(tr, lambda, 500);
                double acc = lp.accuracy(f, va);
                if (acc > bestAcc) {
                    bestAcc = acc;
                    bestFit = f;
                }
            }
            fit = bestFit;
            log.accept(String.format(Locale.ROOT, "probe: lambda %.0e picked on validation (accuracy %.3f)", fit.lambda(), bestAcc));
        } else {
            fit = lp.fit(tr, 1.0 / Math.max(1, tr.size()), 500);
        }
        for (int c = 0; c < net.numClasses(); c++) {
            net.setHeadRow(c, Arrays.copyOfRange(fit.weight(), c * net.featureDim(), (c + 1) * net.featureDim()), fit.bias()[c]);
        }
        double fitSeconds = (System.nanoTime() - t0) / 1e9;
        Evaluation trainEval = Evaluator.onFeatures(net, tr);
        Evaluation valEval = va == null ? null : Evaluator.onFeatures(net, va);
        Evaluation test = data.test() == null ? null : Evaluator.evaluate(net, data.test(), data.preprocessing(), opts, bad);
        EpochMetrics m = new EpochMetrics(1, fit.loss(), trainEval.accuracy(), valEval == null ? Double.NaN : valEval.accuracy(),
                valEval == null ? Double.NaN : valEval.loss(), test == null ? Double.NaN : test.accuracy(),
                tr.size() / Math.max(1e-9, featureSeconds), test == null ? Double.NaN : test.examplesPerSec(), fitSeconds, 0, 0);
        log.accept(String.format(Locale.ROOT, "probe: loss %.3f, train acc %.3f, test acc %.3f (%d L-BFGS iterations)",
                fit.loss(), trainEval.accuracy(), m.testAcc(), fit.iterations()));
        return new Probe(List.of(m), test, bad);
    }

    /** Maps the CLI word to the loader policy. */
    public static Loader.OnBadImage onBadImage(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "skip" -> Loader.OnBadImage.SKIP;
            case "fail" -> Loader.OnBadImage.FAIL;
            default -> throw new IllegalArgumentException("--on-bad-image must be skip or fail, not " + s);
        };
    }
}
