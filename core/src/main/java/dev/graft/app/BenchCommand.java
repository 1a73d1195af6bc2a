package dev.graft.app;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.graft.data.BadImages;
import dev.graft.data.ImageDecoder;
import dev.graft.data.ImageFolder;
import dev.graft.data.Loader;
import dev.graft.data.OnBadImage;
import dev.graft.data.Preprocessing;
import dev.graft.data.Transforms;
import dev.graft.model.Architecture;
import dev.graft.model.Architectures;
import dev.graft.model.Backbone;
import dev.graft.model.InferenceEngine;
import dev.graft.model.OnnxExport;
import dev.graft.model.OnnxRuntimeEngine;
import dev.graft.model.Network;
import dev.graft.model.Tuning;
import dev.graft.weights.Downloader;
import dev.graft.model.Predictor;
import dev.graft.model.nn.Layers;
import dev.graft.model.nn.Precision;
import dev.graft.model.nn.Torch;
import dev.graft.train.BatchSource;
import dev.graft.train.Sgd;
import dev.graft.train.TrainingPlan;
import dev.graft.train.Loss;
import dev.graft.train.LrSchedule;
import dev.graft.train.ParamGroups;
import dev.graft.train.Recipe;
import dev.graft.train.StopSignal;
import dev.graft.train.TrainOptions;
import dev.graft.train.Trainer;
import dev.graft.train.TrainingListener;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;

/**
 * Throughput of the product's own code paths: graft's training loop and step (train, epoch), its prediction path
 * (infer), the image pipeline alone, or the engine's matmul peak. Prints the median images/sec over the timed
 * iterations after warm-up, with min and max, and peak RSS.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Measure images/sec: train step, inference, decode+augment pipeline, or a full epoch.")
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "resnet18", description = "an architecture (graft models); random weights unless --weights")
    String model;

    @Option(names = "--weights", description = "weights file (needed for a generic Keras model, which brings its graph)")
    Path weights;

    @Option(names = "--mode", defaultValue = "train", description = "train, infer, pipeline, epoch, matmul (the engine's float32 GFLOP/s on one 4096x4096 matmul) or tune (measure this machine's kernel choices for the model again and print them). Default: ${DEFAULT-VALUE}")
    String mode;

    @Option(names = "--batch-size", converter = Ranges.AtLeastOne.class, defaultValue = "32")
    int batch;

    @Option(names = "--threads", converter = Ranges.AtLeastZero.class, defaultValue = "0", description = "engine intra-op threads (0: engine default)")
    int threads;

    @Option(names = "--workers", converter = Ranges.AtLeastZero.class, defaultValue = "0", description = "loader threads for pipeline/epoch (0: one per core, up to 4)")
    int workers;

    @Option(names = "--image-size", converter = Ranges.ImageSize.class, description = "input size (default: the weights')")
    Integer size;

    @Option(names = "--warmup", converter = Ranges.AtLeastZero.class, defaultValue = "3")
    int warmup;

    @Option(names = "--iterations", converter = Ranges.AtLeastOne.class, defaultValue = "10")
    int iterations;

    @Option(names = "--data", description = "image folder for pipeline/epoch (its train/ sub-folder if it has one)")
    Path data;

    @Option(names = "--epochs", converter = Ranges.AtLeastOne.class, defaultValue = "1", description = "epoch: epochs to run, the last one measured; from the second on, decoded images come from the loader's cache as in training. Default: ${DEFAULT-VALUE}")
    int epochs;

    @Option(names = "--frozen", description = "train: frozen body (head only)")
    boolean frozen;

    @Option(names = "--channels-last", defaultValue = "true", arity = "1", description = "run the network in channels-last memory order (graft's default). Default: ${DEFAULT-VALUE}")
    boolean channelsLast;

    @Option(names = "--profile", description = "train/infer: write libtorch's operator trace of the timed iterations (chrome "
            + "trace JSON) to this file; bench/profile_table.py sums it per operator, beside PyTorch's")
    java.nio.file.Path profile;

    @Option(names = "--no-tune", description = "train/infer: graft's fixed kernel choices (with --channels-last), not the ones tuned for this machine")
    boolean noTune;

    @Option(names = "--precision", defaultValue = "auto", description = "auto, fp32 or bf16. Default: ${DEFAULT-VALUE}")
    Precision precision;

    @Option(names = "--json", description = "print one JSON line instead of text")
    boolean json;

    @Option(names = "--engine", defaultValue = "torch", description = "infer: torch (libtorch, graft's network) or onnxruntime "
            + "(ONNX Runtime on the network exported to ONNX in memory, float32). Default: ${DEFAULT-VALUE}")
    String engine;

    @Override
    public Integer call() throws Exception {
        Torch.threads(threads);
        double[] rates;
        String extra = "";
        String extraJson = "";
        if (mode.equals("tune")) {
            return tune();
        }
        switch (mode) {
            case "train" -> rates = train(null);
            case "infer" -> rates = infer();
            case "pipeline" -> rates = pipeline();
            case "matmul" -> rates = matmul();
            case "epoch" -> {
                double[] r = epoch();
                rates = new double[] {r[0]};
                extraJson = String.format(Locale.ROOT, ",\"wait_seconds\":%.3f,\"total_seconds\":%.3f", r[1], r[2]);
                extra = String.format(Locale.ROOT, ", waiting for data %.1f%% of the epoch (%.1f s of %.1f s)", 100 * r[1] / r[2], r[1], r[2]);
            }
            default -> throw new IllegalArgumentException("--mode must be train, infer, pipeline, epoch, matmul or tune");
        }
        double[] sorted = rates.clone();
        Arrays.sort(sorted);
        double median = sorted.length % 2 == 1 ? sorted[sorted.length / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
        long rss = peakRssKb();
        boolean ort = mode.equals("infer") && engine.equals("onnxruntime");
        String p = ort ? "fp32" : precision.resolve().label();
        if (mode.equals("infer")) {
            // latency of one timed iteration (a batch), nearest-rank percentiles
            double[] ms = Arrays.stream(rates).map(r -> 1000.0 * batch / r).sorted().toArray();
            double p50 = ms[(int) Math.ceil(0.50 * ms.length) - 1];
            double p95 = ms[(int) Math.ceil(0.95 * ms.length) - 1];
            extraJson += String.format(Locale.ROOT, ",\"engine\":\"%s\",\"p50_ms\":%.3f,\"p95_ms\":%.3f", ort ? "onnxruntime" : "torch", p50, p95);
            extra += String.format(Locale.ROOT, ", engine %s, latency per batch p50 %.1f ms, p95 %.1f ms", ort ? "onnxruntime" : "torch", p50, p95);
        }
        // peak RSS depends on the allocator (the launcher preloads jemalloc where installed): say which one ran
        String allocator = allocator();
        extraJson += ",\"allocator\":\"" + allocator + "\"";
        extra += ", allocator " + allocator;
        // transparent huge pages: whether the allocator was told to ask for them, and how much memory has them now
        String huge = hugePages(System.getenv());
        long hugeKb = hugePagesKb();
        extraJson += String.format(Locale.ROOT, ",\"huge_pages\":\"%s\",\"huge_pages_mb\":%.0f", huge, hugeKb / 1024.0);
        extra += String.format(Locale.ROOT, ", huge pages %s (%.0f MB now)", huge, hugeKb / 1024.0);
        // what oneDNN was told about the caches (repaired where the CPU reports them as 1 byte)
        String caches = dev.graft.model.nn.OneDnnCaches.state();
        extraJson += ",\"onednn_caches\":\"" + caches.replace("\"", "'") + "\"";
        extra += ", oneDNN caches " + caches;
        if (json) {
            System.out.printf(Locale.ROOT, "{\"model\":\"%s\",\"mode\":\"%s\",\"batch\":%d,\"threads\":%d,\"precision\":\"%s\",\"median\":%.3f,\"min\":%.3f,\"max\":%.3f,\"peak_rss_mb\":%.0f%s}%n",
                    model, mode, batch, threads, p, median, sorted[0], sorted[sorted.length - 1], rss / 1024.0, extraJson);
        } else {
            System.out.printf(Locale.ROOT, "%s %s batch %d (%s): %.2f %s (median of %d; min %.2f, max %.2f), peak RSS %.0f MB%s%n",
                    model, mode, batch, p, median, mode.equals("matmul") ? "GFLOP/s" : "images/s", rates.length, sorted[0],
                    sorted[sorted.length - 1], rss / 1024.0, extra);
        }
        return 0;
    }

    private Preprocessing pre(Architecture arch) {
        Preprocessing p = arch.weights().preprocessing();
        return size == null ? p : p.withCrop(size);
    }

    /** The network as training builds it: pretrained body with --weights, else random (the framework's init). */
    private Network untuned(NDManager m, Architecture arch) {
        Backbone b = Backbone.load(arch, weights, weights != null, null, pre(arch), s -> { });
        Network net = b.newNetwork(2, new Layers(m));
        if (weights != null) {
            b.copyBody(net);
        } else {
            b.initScratch(net, 1);
        }
        net.compute().setPrecision(precision);
        return net;
    }

    /** The network with the kernels this machine's tuning chose (or, with --no-tune, --channels-last as given). */
    private Network network(NDManager m, Architecture arch) {
        Network net = untuned(m, arch);
        if (noTune || !Tuning.enabled()) {
            net.compute().setChannelsLast(channelsLast);
        } else {
            // as training and prediction run it: the kernels chosen for this machine (--no-tune: graft's fixed ones)
            Tuning.tuneAndApply(net, pre(arch).crop(), Downloader.defaultCache(), json ? s -> { } : System.out::println);
        }
        return net;
    }

    /** --mode tune: this machine's choices for the model, measured now (the cache is replaced), as a table. */
    private int tune() throws java.io.IOException {
        Architecture arch = Architectures.get(model);
        try (NDManager m = Torch.newManager()) {
            Network net = untuned(m, arch);
            java.nio.file.Path dir = Downloader.defaultCache().resolve("tuning");
            Tuning.Table t = Tuning.tune(net, pre(arch).crop(), null);
            Tuning.store(Downloader.defaultCache(), t, pre(arch).crop(), net);
            System.out.print(t.describe());
            System.out.println("cached in " + dir + "; training, predict and serve use it (--no-tune or GRAFT_TUNE=off: graft's fixed choices)");
        }
        return 0;
    }

    /** Steps of graft's own training loop; on random images unless {@code images} (real ones) is given. */
    private double[] train(BatchSource images) {
        Architecture arch = Architectures.get(model);
        Preprocessing p = pre(arch);
        try (NDManager m = Torch.newManager(); BatchSource source = images != null ? images : random(p, warmup + iterations)) {
            Network net = network(m, arch);
            net.setFrozenBody(frozen);
            List<Double> rates = new ArrayList<>();
            long[] last = {System.nanoTime()};
            TrainingListener timer = new TrainingListener() {
                @Override
                public void onBatch(Trainer t, BatchSource.Batch b, float lossSum) {
                    long now = System.nanoTime();
                    if (t.progress().batch > warmup) {
                        rates.add(b.size() / ((now - last[0]) / 1e9));
                    }
                    if (t.progress().batch == warmup) {
                        startProfile();
                    }
                    last[0] = now;
                }
            };
            Recipe r = Recipe.book(Recipe.Mode.FINETUNE, 1).toBuilder().momentum(0.9).batchSize(batch).epochs(1).build();
            if (warmup == 0) {
                startProfile();
            }
            new Trainer(plan(net, r, source, 1), List.of(timer), new StopSignal()).fit();
            stopProfile();
            return rates.stream().mapToDouble(Double::doubleValue).toArray();
        }
    }

    /** The book's SGD step (momentum 0.9, the head at 10x) over {@code epochs} epochs of {@code source}. */
    private static TrainingPlan plan(Network net, Recipe r, BatchSource source, int epochs) {
        return new TrainingPlan(net, ParamGroups.bodyAndHead(net, 1e-5, 1e-4).withWeightDecay(r.optimization().weightDecay(), true),
                LrSchedule.of(r, (long) source.batchesPerEpoch() * epochs), new Sgd(r.optimization().momentum()),
                new Loss(r.optimization().loss()), source, epochs, 1);
    }

    /** {@code batches} batches of one random image batch (what the loader would hand over), labels alternating. */
    private BatchSource random(Preprocessing p, int batches) {
        int floats = Transforms.size(p);
        float[] x = new float[batch * floats];
        Random rng = new Random(1);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rng.nextGaussian();
        }
        int[] labels = new int[batch];
        int[] samples = new int[batch];
        for (int i = 0; i < batch; i++) {
            labels[i] = i % 2;
            samples[i] = i;
        }
        Shape shape = new Shape(batch, 3, p.crop(), p.crop());
        return new BatchSource() {
            @Override
            public int batchesPerEpoch() {
                return batches;
            }

            @Override
            public int batchSize() {
                return batch;
            }

            @Override
            public boolean features() {
                return false;
            }

            @Override
            public int imageSize() {
                return p.crop();
            }

            @Override
            public Iterator<Batch> epoch(int epoch, int fromBatch) {
                return java.util.stream.IntStream.range(fromBatch, batches)
                        .mapToObj(i -> new Batch(batch, x, shape, labels, samples, false)).iterator();
            }

            @Override
            public String describe(int sample) {
                return "random image " + sample;
            }

            @Override
            public void close() {
            }
        };
    }

    /** graft's prediction path (BatchNorm folded, inference weights prepared once) on random images. */
    private double[] infer() {
        Architecture arch = Architectures.get(model);
        Preprocessing p = pre(arch);
        float[] x = new float[batch * Transforms.size(p)];
        Random rng = new Random(1);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rng.nextGaussian();
        }
        if (!engine.equals("torch") && !engine.equals("onnxruntime")) {
            throw new IllegalArgumentException("--engine must be torch or onnxruntime");
        }
        try (NDManager m = Torch.newManager()) {
            Network net = network(m, arch);
            List<Double> rates = new ArrayList<>();
            InferenceEngine ort = null;
            if (engine.equals("onnxruntime")) {
                OnnxRuntimeEngine.threads(threads);
                List<String> labels = List.of("a", "b");
                ort = Torch.noGrad(() -> OnnxRuntimeEngine.of(OnnxExport.export(net, p, labels, model, dev.graft.train.Version.VERSION).toBytes(),
                        "bench"));
                for (int i = 0; i < x.length; i++) {
                    x[i] = rng.nextFloat(); // the ONNX model takes pixels in [0, 1]
                }
            }
            try (Predictor predictor = new Predictor(net, p, ort)) {
                for (int it = 0; it < warmup + iterations; it++) {
                    if (it == warmup && ort == null) {
                        startProfile();
                    }
                    long t0 = System.nanoTime();
                    if (ort != null) {
                        ort.logits(x, batch);
                    } else {
                        predictor.logits(x, batch);
                    }
                    if (it >= warmup) {
                        rates.add(batch / ((System.nanoTime() - t0) / 1e9));
                    }
                }
            }
            stopProfile();
            return rates.stream().mapToDouble(Double::doubleValue).toArray();
        }
    }

    private boolean profiling;

    private void startProfile() {
        if (profile != null && !profiling) {
            // without input shapes: recording them held memory in graft's process (MobileNetV2 inference, batch 64:
            // peak RSS 2.5 GB against 1.0, 80 against 204 images/s), which the trace would then show as slow operators
            ai.djl.pytorch.jni.JniUtils.startProfile(false, false, false);
            profiling = true;
        }
    }

    private void stopProfile() {
        if (profiling) {
            ai.djl.pytorch.jni.JniUtils.stopProfile(profile.toAbsolutePath().toString());
            profiling = false;
            System.err.println("libtorch's operator trace: " + profile);
        }
    }

    private ImageFolder folder() {
        if (data == null) {
            throw new IllegalArgumentException("--mode " + mode + " reads real images: pass --data DIR (an image folder, or the book's layout)");
        }
        return ImageFolder.scan(Files.isDirectory(data.resolve("train")) ? data.resolve("train") : data, null);
    }

    private int workers() {
        return workers > 0 ? workers : Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
    }

    /**
     * Decode + RandomResizedCrop + flip + normalize alone, no model, no decoded-image cache: images/s over whole passes
     * of the folder (per-batch timings would mostly measure the prefetch queue), {@code --warmup} passes first.
     */
    private double[] pipeline() {
        ImageFolder f = folder();
        Preprocessing p = pre(Architectures.get(model));
        List<Double> rates = new ArrayList<>();
        try (Loader l = new Loader(f.samples(), Transforms.bookTrain(p), Transforms.size(p), batch, true, 1, workers(), 4,
                OnBadImage.SKIP, new BadImages(s -> { }), new ImageDecoder(), 0)) {
            for (int epoch = 0; epoch < warmup + iterations; epoch++) {
                long t0 = System.nanoTime();
                int images = 0;
                for (Iterator<Loader.Decoded> b = l.epoch(epoch, 0); b.hasNext(); ) {
                    images += b.next().size();
                }
                if (epoch >= warmup) {
                    rates.add(images / ((System.nanoTime() - t0) / 1e9));
                }
            }
        }
        return rates.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** The engine's float32 matmul GFLOP/s (one 4096x4096 product per iteration): the machine's practical peak. */
    private double[] matmul() {
        int n = 4096;
        try (NDManager m = Torch.newManager()) {
            NDArray a = m.randomNormal(new Shape(n, n));
            NDArray b = m.randomNormal(new Shape(n, n));
            List<Double> rates = new ArrayList<>();
            for (int it = 0; it < warmup + iterations; it++) {
                try (NDManager im = m.newSubManager()) {
                    long t0 = System.nanoTime();
                    NDArray c = a.matMul(b);
                    c.attach(im);
                    c.getFloat(0, 0);
                    if (it >= warmup) {
                        rates.add(2.0 * n * n * n / ((System.nanoTime() - t0) / 1e9) / 1e9);
                    }
                }
            }
            return rates.stream().mapToDouble(Double::doubleValue).toArray();
        }
    }

    /**
     * Training epochs of graft's loop on real JPEGs (the book's augmentation, decoded images cached from the second
     * epoch on); returns the last one's {images/s, seconds waiting for data, total seconds}.
     */
    private double[] epoch() {
        ImageFolder f = folder();
        Architecture arch = Architectures.get(model);
        Preprocessing p = pre(arch);
        TrainOptions opts = TrainOptions.defaults(s -> { }).withWorkers(workers());
        double[] last = null;
        try (NDManager m = Torch.newManager();
             BatchSource source = BatchSource.images(f, Transforms.bookTrain(p), p, batch, 1, opts, new BadImages(s -> { }))) {
            Network net = network(m, arch);
            Recipe r = Recipe.book(Recipe.Mode.FINETUNE, 1).toBuilder().momentum(0.9).batchSize(batch).epochs(Math.max(1, epochs)).build();
            List<double[]> perEpoch = new ArrayList<>();
            long[] t0 = {System.nanoTime()};
            TrainingListener timer = new TrainingListener() {
                @Override
                public void onEpoch(Trainer t) {
                    var e = t.progress().last();
                    double total = (System.nanoTime() - t0[0]) / 1e9;
                    perEpoch.add(new double[] {e.seconds() > 0 ? e.examplesPerSec() * e.seconds() / total : 0, e.dataWaitSeconds(), total});
                    t0[0] = System.nanoTime();
                }
            };
            new Trainer(plan(net, r, source, r.schedule().epochs()), List.of(timer), new StopSignal()).fit();
            last = perEpoch.get(perEpoch.size() - 1);
        }
        return last;
    }

    /** "jemalloc" when it is loaded in this process (the launcher preloads it where installed), else "glibc". */
    static String allocator() {
        try {
            return Files.readString(Path.of("/proc/self/maps")).contains("libjemalloc") ? "jemalloc" : "glibc";
        } catch (IOException e) {
            return "unknown"; // not Linux
        }
    }

    /**
     * "requested" when this process's allocator was told to back its memory with transparent huge pages (the launcher's
     * {@code thp:always} for jemalloc, {@code glibc.malloc.hugetlb=1} for glibc), else "not requested".
     */
    static String hugePages(Map<String, String> env) {
        boolean jemalloc = env.getOrDefault("MALLOC_CONF", "").matches("(^|.*,)thp:always(,.*|$)");
        boolean glibc = env.getOrDefault("GLIBC_TUNABLES", "").matches("(^|.*:)glibc\\.malloc\\.hugetlb=[12](:.*|$)");
        return jemalloc || glibc ? "requested" : "not requested";
    }

    /** Anonymous memory of this process in transparent huge pages now (0 where the kernel gives none or not Linux). */
    static long hugePagesKb() {
        return procKb("/proc/self/smaps_rollup", "AnonHugePages:");
    }

    static long peakRssKb() {
        return procKb("/proc/self/status", "VmHWM:");
    }

    /** The kB figure on the line of {@code file} that starts with {@code key}; 0 where there is none (not Linux). */
    private static long procKb(String file, String key) {
        try {
            for (String line : Files.readAllLines(Path.of(file))) {
                if (line.startsWith(key)) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux, or a kernel without this file
        }
        return 0;
    }
}
