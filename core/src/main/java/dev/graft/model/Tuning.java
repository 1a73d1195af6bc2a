package dev.graft.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import dev.graft.model.nn.Compute;
import dev.graft.model.nn.Conv2d;
import dev.graft.model.nn.Precision;
import dev.graft.model.nn.Torch;
import dev.graft.util.Json;
import dev.graft.weights.StateDict;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * How a network's kernels run on this machine, chosen by measuring, as {@code torch.backends.cudnn.benchmark}
 * chooses on GPUs: the memory order of training forwards and of inference (channels-last or contiguous), the path
 * of float32 1x1 convolutions (libtorch's convolution or a matrix product), and whether inference folds BatchNorm
 * into the convolution before it. Each option runs the real network on a random batch (training: forward and
 * backward; inference: forward); an option whose features or gradients differ from the plain path's (contiguous,
 * libtorch's convolution, BatchNorm unfolded; dropout off) beyond float32 rounding is refused whatever its speed (a
 * bfloat16 option is held to the plain path in float32: refused if it is further from it than 1.5 times the most
 * accurate bfloat16 option); the others are timed in turns, up to three runs each (the checking run the first), the
 * best of each counting, and the fastest is kept. An option no faster than the fixed one after its second run is not
 * timed again. Done once per machine and model: the choice is cached in graft's cache, keyed by the CPU's model, flags and thread count (and any
 * variable limiting libtorch's instruction sets), libtorch's and graft's versions, the architecture, precision and
 * input size. A choice cached under another key is never used. {@code GRAFT_TUNE=off} (or {@code -Dgraft.tune=off}, the command
 * line's {@code --no-tune}) keeps graft's fixed defaults: channels-last everywhere, the convolution (the product only
 * for the shapes where libtorch's kernel fails its check), BatchNorm folded.
 */
public final class Tuning {
    /** Changes with what the tuning measures or how: a choice cached by an older one is measured again. */
    static final int FORMAT = 7; // 4: the 1x1 kernel checked per shape (it was one check for all); 5: bfloat16 held to float32;
                                  // 6: an option replacing the fixed one must win a second measurement; 7: the checking
                                  // run timed, options no faster than the fixed one dropped after two runs

    private Tuning() {
    }

    /** What one forward runs with. */
    public record Options(boolean channelsLast, boolean pointwiseProduct, boolean foldBatchNorm) {
        String label(boolean inference) {
            // the product runs on the channels-last view only: in contiguous order every 1x1 is libtorch's convolution
            return (channelsLast ? "channels-last, 1x1 " + (pointwiseProduct ? "product" : "convolution where exact") : "contiguous")
                    + (inference ? (foldBatchNorm ? ", BatchNorm folded" : ", BatchNorm unfolded") : "");
        }
    }

    /**
     * One measured option: its use ("train" or "infer"), images per second, the relative error of its logits
     * (and, training, of its gradient) against the plain path (in float32, for bfloat16 options), and why it was
     * refused (null: correct).
     */
    public record Trial(String use, Options options, double imagesPerSecond, double relativeError, String refused) {
    }

    /** What was chosen for training and for inference, from which trials; {@code cached}: read from the cache. */
    public record Table(String key, Options train, Options infer, List<Trial> trials, boolean cached, double seconds) {
        /** The table as printed by {@code graft bench --mode tune}. */
        public String describe() {
            StringBuilder sb = new StringBuilder("tuning for " + key + (cached ? " (from the cache)" : String.format(Locale.ROOT,
                    " (measured in %.1f s)", seconds)) + "\n");
            sb.append(String.format(Locale.ROOT, "  the fastest correct option is chosen when it is %.0f%% faster than graft's fixed one (%s),%n"
                    + "  timed again against it, and faster again (their second figures shown); each the best of up to %d runs in turn, the%n"
                    + "  first the one that checks it, but one no faster than the fixed one after its second run is not timed again%n",
                    100 * (MARGIN - 1), FIXED.label(true), ROUNDS));
            sb.append(String.format(Locale.ROOT, "  %-6s %-64s %12s %10s  %s%n", "use", "option", "images/s", "rel. error", "verdict"));
            for (Trial t : trials) {
                boolean chosen = t.refused() == null && t.options().equals(t.use().equals("train") ? train : infer);
                sb.append(String.format(Locale.ROOT, "  %-6s %-64s %12s %10.1e  %s%n", t.use(), t.options().label(t.use().equals("infer")),
                        t.imagesPerSecond() > 0 ? String.format(Locale.ROOT, "%.1f", t.imagesPerSecond()) : "not timed", t.relativeError(), t.refused() != null ? "refused: " + t.refused() : chosen ? "chosen" : "correct"));
            }
            return sb.toString();
        }

        /** One line for a run's log. */
        public String summary() {
            return "kernels tuned for this machine" + (cached ? " (cached)" : "") + ": training " + train.label(false) + "; inference "
                    + infer.label(true);
        }
    }

    /** Whether tuning is on: not when {@code GRAFT_TUNE} or {@code -Dgraft.tune} says off. */
    public static boolean enabled() {
        String v = System.getProperty("graft.tune", System.getenv("GRAFT_TUNE"));
        return v == null || !(v.equalsIgnoreCase("off") || v.equalsIgnoreCase("false") || v.equals("0"));
    }

    /**
     * Batch sizes of the timed steps, the runs' own (the default recipe's batch; predict's): at batch 8 and 16 the
     * fastest memory order was not the fastest at 32 and 64 (ResNet-18 inference: contiguous first at 16, 40% behind at 64).
     */
    static final int TRAIN_BATCH = 32;
    static final int INFER_BATCH = 32;
    /**
     * How much faster than graft's fixed choice an option must measure to replace it: on this VM the same option
     * measured 20-40% apart between runs, and a choice made on noise costs every run after it.
     */
    static final double MARGIN = 1.10;

    /**
     * Runs timed of each option, in turns, its checking run the first; the best of them counts. Options no faster than
     * the fixed one after their second run are not timed again (to replace it one must beat it by MARGIN twice).
     */
    static final int ROUNDS = 3;

    /** Relative error allowed on the training gradient (see {@link #measure}): a wrong kernel is off by O(1). */
    static final double GRADIENT_TOLERANCE = 0.1;

    /** bfloat16 options: how much further from float32 than the most accurate bfloat16 option one may be. */
    static final double BF16_SLACK = 1.5;

    /** Relative error allowed against the plain path: float32 rounding through a deep network, or bfloat16's. */
    static double tolerance(Precision p) {
        return p == Precision.BF16 ? 5e-2 : 1e-4;
    }

    /**
     * The network's options for this machine, from the cache in {@code cacheDir} or measured now (and cached), then
     * applied to it. Its weights and statistics are as before; measuring leaves no gradient behind.
     */
    public static Table tuneAndApply(Network net, int crop, Path cacheDir, Consumer<String> log) {
        Table t = tune(net, crop, cacheDir);
        apply(net.compute(), t);
        log.accept(t.summary());
        return t;
    }

    /** Sets the chosen options on a network's compute settings. */
    public static void apply(Compute c, Table t) {
        c.setChannelsLast(t.train().channelsLast(), t.infer().channelsLast());
        // one 1x1 path for the network: the inference choice when the two differ only matters in evaluation
        c.setPointwiseProduct(t.train().pointwiseProduct());
        c.setFoldBatchNorm(t.infer().foldBatchNorm());
    }

    /** The cached table for this network, or a new measurement (cached when {@code cacheDir} is not null). */
    public static Table tune(Network net, int crop, Path cacheDir) {
        return tune(net, crop, cacheDir, false);
    }

    /**
     * As {@link #tune(Network, int, Path)}; {@code inferenceOnly} (a classifier's network, which never trains) measures
     * the inference options alone and keeps graft's defaults for training.
     */
    public static Table tune(Network net, int crop, Path cacheDir, boolean inferenceOnly) {
        String key = key(net, crop) + (inferenceOnly ? ", inference only" : "");
        Path file = cacheDir == null ? null : cacheDir.resolve("tuning").resolve(sha256(key).substring(0, 16) + ".json");
        if (file != null && Files.isRegularFile(file)) {
            Table cached = read(file, key);
            if (cached != null) {
                return cached;
            }
        }
        Table t = measure(net, crop, key, inferenceOnly);
        if (file != null) {
            write(file, t);
        }
        return t;
    }

    /** Writes {@code t} as the cached choice for this network (graft bench --mode tune measures again and replaces it). */
    public static void store(Path cacheDir, Table t, int crop, Network net) {
        write(cacheDir.resolve("tuning").resolve(sha256(key(net, crop)).substring(0, 16) + ".json"), t);
    }

    /** The CPU, threads, library versions, architecture, precision and input size the choice holds for. */
    static String key(Network net, int crop) {
        return String.format(Locale.ROOT, "%s, tuning v%d, %s %s %dpx", Precision.machine(), FORMAT, net.architecture(),
                net.compute().precision().name().toLowerCase(Locale.ROOT), crop);
    }

    private static Table measure(Network net, int crop, String key, boolean inferenceOnly) {
        long t0 = System.nanoTime();
        if (!net.hasBatchNorm()) {
            // ViT and ConvNeXt: no BatchNorm to fold, no 1x1 convolutions; their steps cost too much to time options
            // whose only difference would be a stem's memory order
            return new Table(key, FIXED, FIXED, List.of(), false, 0);
        }
        Compute c = net.compute();
        // "convolution" keeps the product for the shapes where libtorch's 1x1 kernel failed its check (Conv2d)
        boolean[] paths = net.hasPointwise() ? new boolean[] {false, true} : new boolean[] {FIXED.pointwiseProduct()};
        boolean[] folds = net.hasBatchNorm() ? new boolean[] {false, true} : new boolean[] {true};
        double tol = tolerance(c.precision());
        Boolean savedPath = c.pointwiseProduct();
        boolean savedTrainOrder = c.channelsLast(true);
        boolean savedInferOrder = c.channelsLast(false);
        boolean savedFold = c.foldBatchNorm();
        Precision savedPrecision = c.precision();
        boolean savedStochastic = c.stochastic(true);
        c.setStochastic(false); // dropout would make two forwards of one option differ
        StateDict before = net.stateDict();
        List<Trial> trials = new ArrayList<>();
        try (NDManager m = net.manager().newSubManager()) {
            java.util.Random r = new java.util.Random(7);
            float[] pixels = new float[INFER_BATCH * 3 * crop * crop];
            for (int i = 0; i < pixels.length; i++) {
                pixels[i] = (float) r.nextGaussian();
            }
            NDArray x = m.create(pixels, new Shape(INFER_BATCH, 3, crop, crop));
            NDArray xTrain = x.get("0:" + TRAIN_BATCH);
            // every option once, the plain path first (the reference of the others): its result, and its warm-up
            List<Options> trainOptions = new ArrayList<>();
            List<Options> inferOptions = new ArrayList<>();
            for (boolean order : new boolean[] {false, true}) {
                for (boolean path : paths) {
                    if (path && !order && paths.length > 1) {
                        continue; // the product runs on the channels-last view only
                    }
                    if (!inferenceOnly) {
                        trainOptions.add(new Options(order, path, true));
                    }
                    for (boolean fold : folds) {
                        inferOptions.add(new Options(order, path, fold));
                    }
                }
            }
            // the reference of every option: the plain path, in float32 also for bfloat16 options (bfloat16's own plain
            // path is not its most accurate one: MobileNet v1's contiguous bfloat16 features were 0.11 from float32's,
            // its channels-last ones 0.05; in training 0.34 and 0.10)
            boolean bf16 = c.precision() == Precision.BF16;
            float[][] ref = null;
            float[] refInfer = null;
            if (bf16) {
                Options plain = new Options(false, false, false);
                c.setPrecision(Precision.FP32);
                set(c, plain, plain);
                ref = inferenceOnly ? null : trainStep(net, xTrain);
                refInfer = inferStep(net, x);
                c.setPrecision(Precision.BF16);
            }
            // the first run of each option checks it and is its first time (not used to drop it: it carries the warm-up)
            double[] trainSecs = new double[trainOptions.size()];
            List<double[]> trainErr = new ArrayList<>();
            Supplier<float[][]> train = () -> trainStep(net, xTrain);
            Supplier<float[]> infer = () -> inferStep(net, x);
            Runnable noPreparation = () -> { };
            Runnable prepareInference = c::prepareInference;
            for (int i = 0; i < trainOptions.size(); i++) {
                Timed<float[][]> run = run(c, trainOptions.get(i), train, noPreparation, false);
                trainSecs[i] = run.seconds();
                float[][] got = run.value();
                if (ref == null) {
                    ref = got;
                }
                trainErr.add(new double[] {rel(got[0], ref[0]), rel(got[1], ref[1])});
            }
            double[] inferSecs = new double[inferOptions.size()];
            List<Double> inferErrors = new ArrayList<>();
            for (int i = 0; i < inferOptions.size(); i++) {
                Timed<float[]> run = run(c, inferOptions.get(i), infer, prepareInference, false);
                inferSecs[i] = run.seconds();
                if (refInfer == null) {
                    refInfer = run.value();
                }
                inferErrors.add(rel(run.value(), refInfer));
            }
            // float32: within rounding of the plain path. The gradient passes BatchNorm's backward over a small batch,
            // which amplifies summation order: float32 orders differ by a few 1e-2 there, a wrong kernel by O(1).
            // bfloat16: no further from float32 than BF16_SLACK times the most accurate option
            double featureTol = bf16 ? Math.max(tol, BF16_SLACK * trainErr.stream().mapToDouble(e -> e[0]).min().orElse(0)) : tol;
            double gradientTol = bf16 ? Math.max(GRADIENT_TOLERANCE, BF16_SLACK * trainErr.stream().mapToDouble(e -> e[1]).min().orElse(0))
                    : GRADIENT_TOLERANCE;
            double inferTol = bf16 ? Math.max(tol, BF16_SLACK * inferErrors.stream().mapToDouble(Double::doubleValue).min().orElse(0)) : tol;
            List<String> trainVerdicts = new ArrayList<>();
            List<Double> trainErrors = new ArrayList<>();
            for (double[] e : trainErr) {
                trainErrors.add(Math.max(e[0], e[1]));
                trainVerdicts.add(e[0] > featureTol ? refusal("features", "differ", bf16) : e[1] > gradientTol ? refusal("gradient", "differs", bf16) : null);
            }
            // timed in turns, the best of up to ROUNDS runs for each: this VM's speed drifts by tens of percent within a
            // minute, and one option timed only while it was slow would lose on noise
            int trainFixed = trainOptions.indexOf(fixed("train"));
            int inferFixed = inferOptions.indexOf(fixed("infer"));
            java.util.function.IntPredicate trainCorrect = i -> trainVerdicts.get(i) == null;
            java.util.function.IntPredicate inferCorrect = i -> inferErrors.get(i) <= inferTol;
            race(c, trainOptions, trainCorrect, train, noPreparation, trainSecs, trainFixed);
            race(c, inferOptions, inferCorrect, infer, prepareInference, inferSecs, inferFixed);
            confirm(c, trainOptions, trainSecs, trainFixed, train, noPreparation);
            confirm(c, inferOptions, inferSecs, inferFixed, infer, prepareInference);
            for (int i = 0; i < trainOptions.size(); i++) {
                trials.add(new Trial("train", trainOptions.get(i), rate(TRAIN_BATCH, trainSecs[i]), trainErrors.get(i), trainVerdicts.get(i)));
            }
            for (int i = 0; i < inferOptions.size(); i++) {
                double err = inferErrors.get(i);
                trials.add(new Trial("infer", inferOptions.get(i), rate(INFER_BATCH, inferSecs[i]), err, err > inferTol ? refusal("output", "differs", bf16) : null));
            }
        } finally {
            c.releaseInference();
            c.setChannelsLast(savedTrainOrder, savedInferOrder);
            c.setPointwiseProduct(savedPath);
            c.setFoldBatchNorm(savedFold);
            c.setStochastic(savedStochastic);
            c.setPrecision(savedPrecision);
            net.loadAll(before);
            net.clearGradients();
        }
        Options train = inferenceOnly ? FIXED : fastest(trials, "train");
        Options infer = fastest(trials, "infer");
        return new Table(key, train, infer, List.copyOf(trials), false, (System.nanoTime() - t0) / 1e9);
    }

    /**
     * Times each option where {@code timed}, in turns, until ROUNDS runs of it are counted with its first (the
     * checking run, in {@code secs}); the best of each counts (MAX_VALUE: not timed). From its second run on, an option
     * no faster than the fixed one ({@code fixed}) is not timed again, and the timing stops when only the fixed one is
     * left: to replace it an option must beat it by MARGIN, then again in {@link #confirm}.
     */
    private static void race(Compute c, List<Options> options, java.util.function.IntPredicate timed, Supplier<?> step, Runnable prepare,
            double[] secs, int fixed) {
        boolean[] out = new boolean[options.size()];
        for (int i = 0; i < options.size(); i++) {
            out[i] = !timed.test(i);
            if (out[i]) {
                secs[i] = Double.MAX_VALUE; // refused: its speed does not matter
            }
        }
        for (int round = 1; round < ROUNDS; round++) {
            for (int i = 0; i < options.size(); i++) {
                if (!out[i]) {
                    secs[i] = Math.min(secs[i], run(c, options.get(i), step, prepare, false).seconds());
                }
            }
            if (fixed < 0 || out[fixed]) {
                continue; // nothing to race against: every correct option gets its rounds
            }
            boolean contender = false;
            for (int i = 0; i < options.size(); i++) {
                if (i != fixed && !out[i]) {
                    out[i] = secs[i] >= secs[fixed];
                    contender |= !out[i];
                }
            }
            if (!contender) {
                return;
            }
        }
    }

    /** A step's result and its seconds. */
    private record Timed<T>(T value, double seconds) {
    }

    /** One timed run of {@code step} with {@code o} ({@code confirming}: in its second measurement), its preparation not counted. */
    private static <T> Timed<T> run(Compute c, Options o, Supplier<T> step, Runnable prepare, boolean confirming) {
        set(c, o, o);
        prepare.run();
        long t0 = System.nanoTime();
        delay(o, confirming);
        T value = step.get();
        return new Timed<>(value, (System.nanoTime() - t0) / 1e9);
    }

    /**
     * An option that would replace the fixed one ({@code secs[fixed]}) is timed again, in turns with the fixed one, and
     * replaces it only if it wins again: one lucky round otherwise decides for every run after it (MobileNet v1
     * inference here: BatchNorm unfolded measured 14% ahead of folded at tuning and ran 12% behind it in use). The
     * second measurement's times stand for both; the next fastest is confirmed in turn if the first was not.
     */
    private static void confirm(Compute c, List<Options> options, double[] secs, int fixed, Supplier<?> step, Runnable prepare) {
        if (fixed < 0 || secs[fixed] == Double.MAX_VALUE) {
            return;
        }
        boolean[] confirmed = new boolean[options.size()];
        while (true) {
            int best = fixed;
            for (int i = 0; i < secs.length; i++) {
                if (secs[i] < secs[best]) {
                    best = i;
                }
            }
            if (best == fixed || confirmed[best] || secs[fixed] < MARGIN * secs[best]) {
                return; // the fixed one stands, or the fastest has won twice
            }
            int candidate = best;
            double bestCandidate = Double.MAX_VALUE;
            double bestFixed = Double.MAX_VALUE;
            for (int round = 0; round < ROUNDS; round++) {
                bestCandidate = Math.min(bestCandidate, run(c, options.get(candidate), step, prepare, true).seconds());
                bestFixed = Math.min(bestFixed, run(c, options.get(fixed), step, prepare, true).seconds());
            }
            secs[candidate] = bestCandidate;
            secs[fixed] = bestFixed;
            confirmed[candidate] = true;
        }
    }

    /** Tests: extra time inside an option's timed step ({@code confirming}: in its second measurement), to play noise. */
    static volatile java.util.function.BiFunction<Options, Boolean, Long> delayForTests;

    private static void delay(Options o, boolean confirming) {
        var d = delayForTests;
        if (d != null) {
            try {
                Thread.sleep(d.apply(o, confirming));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void set(Compute c, Options train, Options infer) {
        c.releaseInference();
        c.setChannelsLast(train.channelsLast(), infer.channelsLast());
        c.setPointwiseProduct(train.pointwiseProduct());
        c.setFoldBatchNorm(infer.foldBatchNorm());
    }

    /** graft's fixed choice: channels-last, the product only for shapes where libtorch's 1x1 kernel failed its check, BatchNorm folded. */
    static final Options FIXED = new Options(true, false, true);

    /** graft's fixed choice as an option of {@code use}: training's are all built with BatchNorm "folded" (it has none to fold). */
    private static Options fixed(String use) {
        return use.equals("train") ? new Options(FIXED.channelsLast(), FIXED.pointwiseProduct(), true) : FIXED;
    }

    /** The fastest correct option for {@code use} when it beats graft's fixed choice by {@link #MARGIN}, else the fixed one. */
    private static Options fastest(List<Trial> trials, String use) {
        List<Trial> correct = trials.stream().filter(t -> t.use().equals(use) && t.refused() == null).toList();
        Trial fixed = correct.stream().filter(t -> t.options().equals(fixed(use))).findFirst().orElse(null);
        Trial best = correct.stream().max(java.util.Comparator.comparingDouble(Trial::imagesPerSecond)).orElse(null);
        if (best == null) {
            return new Options(false, false, false); // nothing agreed with the plain path but the plain path itself
        }
        return fixed != null && best.imagesPerSecond() < MARGIN * fixed.imagesPerSecond() ? fixed.options() : best.options();
    }

    /**
     * A training forward and backward: the body's pooled features (what every option computes; a new head's logits
     * can be near zero) and the gradient of the body's first weight.
     */
    private static float[][] trainStep(Network net, NDArray x) {
        net.clearGradients();
        try (NDManager step = x.getManager().newSubManager(); GradientCollector gc = Torch.engine().newGradientCollector()) {
            // a step's results belong to the manager of its input: attached to the step's, they are freed with it (else
            // every step's activations stayed until the end of the tuning, and each step timed fresh memory's page faults)
            x.tempAttach(step);
            NDArray y = net.features(x, true);
            gc.backward(y.mul(y).mean());
            float[] logits = y.toFloatArray();
            Parameter first = net.bodyParameters().values().iterator().next();
            float[] grad = new float[0];
            if (first.getArray().hasGradient()) {
                try (NDArray g = first.getArray().getGradient()) {
                    grad = dev.graft.model.nn.Ops.toFloat32(g).toFloatArray();
                }
            }
            return new float[][] {logits, grad};
        }
    }

    private static float[] inferStep(Network net, NDArray x) {
        if (!net.compute().hasInference()) {
            net.compute().prepareInference();
        }
        return Torch.noGrad(() -> {
            try (NDManager step = x.getManager().newSubManager()) {
                x.tempAttach(step);
                return net.features(x, false).toFloatArray();
            }
        });
    }

    /** Why an option is refused: what of it is wrong, against the plain path (bfloat16: against the best option). */
    private static String refusal(String what, String differs, boolean bf16) {
        return what + (bf16 ? " further from float32 than the most accurate option" : " " + differs + " from the plain path");
    }

    /** Images per second; 0 for an option not timed (refused). */
    private static double rate(int batch, double secs) {
        return secs == Double.MAX_VALUE ? 0 : batch / secs;
    }

    static double rel(float[] a, float[] b) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < a.length; i++) {
            double d = (double) a[i] - b[i];
            num += d * d;
            den += (double) b[i] * b[i];
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    private static Table read(Path file, String key) {
        try {
            JsonNode n = Json.read(file);
            if (!key.equals(n.path("key").asText())) {
                return null; // another machine's (or another version's) choice
            }
            List<Trial> trials = new ArrayList<>();
            for (JsonNode t : n.path("trials")) {
                trials.add(new Trial(t.path("use").asText(), options(t.path("options")), t.path("images_per_second").asDouble(),
                        t.path("relative_error").asDouble(), t.hasNonNull("refused") ? t.path("refused").asText() : null));
            }
            return new Table(key, options(n.path("train")), options(n.path("infer")), trials, true, n.path("seconds").asDouble());
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static Options options(JsonNode n) {
        return new Options(n.path("channels_last").asBoolean(), n.path("pointwise_product").asBoolean(), n.path("fold_batchnorm").asBoolean(true));
    }

    private static Map<String, Object> json(Options o) {
        return Map.of("channels_last", o.channelsLast(), "pointwise_product", o.pointwiseProduct(), "fold_batchnorm", o.foldBatchNorm());
    }

    private static void write(Path file, Table t) {
        try {
            List<Map<String, Object>> trials = new ArrayList<>();
            for (Trial tr : t.trials()) {
                Map<String, Object> m = new java.util.LinkedHashMap<>();
                m.put("use", tr.use());
                m.put("options", json(tr.options()));
                m.put("images_per_second", tr.imagesPerSecond());
                m.put("relative_error", tr.relativeError());
                m.put("refused", tr.refused());
                trials.add(m);
            }
            Map<String, Object> root = new java.util.LinkedHashMap<>();
            root.put("key", t.key());
            root.put("train", json(t.train()));
            root.put("infer", json(t.infer()));
            root.put("seconds", t.seconds());
            root.put("trials", trials);
            Json.writeAtomically(file, root);
        } catch (IOException e) {
            // a cache that cannot be written costs a measurement next time, nothing else
        }
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
