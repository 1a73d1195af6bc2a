package dev.graft.app;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import dev.graft.data.BadImages;
import dev.graft.data.ImageDecoder;
import dev.graft.data.ImageFolder;
import dev.graft.data.Loader;
import dev.graft.data.Preprocessing;
import dev.graft.data.Transforms;
import dev.graft.model.Backbone;
import dev.graft.model.Layers;
import dev.graft.model.Network;
import dev.graft.model.Torch;
import dev.graft.train.GroupedSgd;
import dev.graft.weights.WeightsSpec;
import dev.graft.weights.Zoo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * Throughput benchmarks: a training step, inference, the image pipeline alone, or a whole epoch on real JPEGs.
 * Prints the median images/sec over the timed iterations after warm-up, with min and max, and peak RSS.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Measure images/sec: train step, inference, decode+augment pipeline, or a full epoch.")
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "resnet18", description = "resnet18, resnet34, resnet50 or mobilenet_v1[_alpha] (random weights unless --weights)")
    String model;

    @Option(names = "--weights", description = "weights file (needed for Keras/TF.js models, which bring their graph)")
    Path weights;

    @Option(names = "--mode", defaultValue = "train", description = "train, infer, pipeline, epoch or matmul (the engine's float32 GFLOP/s on one 4096x4096 matmul). Default: ${DEFAULT-VALUE}")
    String mode;

    @Option(names = "--batch-size", defaultValue = "32")
    int batch;

    @Option(names = "--threads", defaultValue = "0", description = "engine intra-op threads (0: engine default)")
    int threads;

    @Option(names = "--workers", defaultValue = "0", description = "loader threads for pipeline/epoch (0: one per core, up to 4)")
    int workers;

    @Option(names = "--image-size", defaultValue = "224")
    int size;

    @Option(names = "--warmup", defaultValue = "3")
    int warmup;

    @Option(names = "--iterations", defaultValue = "10")
    int iterations;

    @Option(names = "--data", description = "image folder for pipeline/epoch (default ../shared/data/hotdog)")
    Path data;

    @Option(names = "--epochs", defaultValue = "1", description = "epoch: epochs to run, the last one measured; from the second on, decoded images come from the loader's cache as in training (1 GiB). Default: ${DEFAULT-VALUE}")
    int epochs;

    @Option(names = "--frozen", description = "train: frozen body (head only)")
    boolean frozen;

    @Option(names = "--channels-last", defaultValue = "true", arity = "1", description = "run the network in channels-last memory order (graft's default). Default: ${DEFAULT-VALUE}")
    boolean channelsLast;

    @Option(names = "--fold-batchnorm", defaultValue = "true", arity = "1", description = "infer: fold BatchNorm into the convolutions once, as predict and serve do. Default: ${DEFAULT-VALUE}")
    boolean foldBatchNorm;

    @Option(names = "--json", description = "print one JSON line instead of text")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Torch.threads(threads);
        Torch.channelsLast = channelsLast;
        double[] rates;
        String extra = "";
        String extraJson = "";
        switch (mode) {
            case "train", "infer" -> rates = compute(mode.equals("train"));
            case "pipeline" -> rates = pipeline();
            case "matmul" -> rates = matmul();
            case "epoch" -> {
                double[] r = epoch();
                rates = new double[] {r[0]};
                extraJson = String.format(Locale.ROOT, ",\"wait_seconds\":%.3f,\"total_seconds\":%.3f", r[1], r[2]);
                extra = String.format(Locale.ROOT, ", waiting for data %.1f%% of the epoch (%.1f s of %.1f s)", 100 * r[1] / r[2], r[1], r[2]);
            }
            default -> throw new IllegalArgumentException("--mode must be train, infer, pipeline, epoch or matmul");
        }
        double[] sorted = rates.clone();
        Arrays.sort(sorted);
        double median = sorted.length % 2 == 1 ? sorted[sorted.length / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
        long rss = peakRssKb();
        if (json) {
            System.out.printf(Locale.ROOT, "{\"model\":\"%s\",\"mode\":\"%s\",\"batch\":%d,\"threads\":%d,\"median\":%.3f,\"min\":%.3f,\"max\":%.3f,\"peak_rss_mb\":%.0f%s}%n",
                    model, mode, batch, threads, median, sorted[0], sorted[sorted.length - 1], rss / 1024.0, extraJson);
        } else {
            System.out.printf(Locale.ROOT, "%s %s batch %d: %.2f %s (median of %d; min %.2f, max %.2f), peak RSS %.0f MB%s%n",
                    model, mode, batch, median, mode.equals("matmul") ? "GFLOP/s" : "images/s", rates.length, sorted[0], sorted[sorted.length - 1], rss / 1024.0, extra);
        }
        return 0;
    }

    private Network network(NDManager m, Backbone[] out) {
        WeightsSpec spec = Zoo.get(model);
        boolean keras = spec.architecture().equals("keras");
        Backbone b = Backbone.load(spec, weights, null, keras || weights != null,
                new Preprocessing(Math.round(size * 256f / 224f), false, size, spec.preprocessing().mean(), spec.preprocessing().std()), s -> { });
        Network net = b.newNetwork(2, new Layers(m));
        if (weights != null) {
            b.copyBody(net);
        } else {
            b.initScratch(net, 1);
        }
        out[0] = b;
        return net;
    }

    private double[] compute(boolean train) {
        try (NDManager m = Torch.newManager()) {
            Network net = network(m, new Backbone[1]);
            net.setFrozenBody(frozen);
            ParameterStore ps = new ParameterStore(m, false);
            GroupedSgd sgd = new GroupedSgd(1e-3, 0.9);
            NDArray x = m.randomNormal(new Shape(batch, 3, size, size));
            int[] labels = new int[batch];
            for (int i = 0; i < batch; i++) {
                labels[i] = i % 2;
            }
            NDArray y = m.create(labels).toType(DataType.INT64, false);
            if (!train && foldBatchNorm) {
                net.foldBatchNorm();
            }
            List<Double> rates = new ArrayList<>();
            for (int it = 0; it < warmup + iterations; it++) {
                long t0 = System.nanoTime();
                try (NDManager bm = m.newSubManager()) {
                    NDArray xb = x.duplicate();
                    xb.attach(bm);
                    if (train) {
                        try (GradientCollector gc = Torch.engine().newGradientCollector()) {
                            NDArray logits = net.forward(ps, new NDList(xb), true).singletonOrThrow();
                            NDArray loss = logits.logSoftmax(1).mul(y.oneHot(2)).sum().neg();
                            gc.backward(loss);
                        }
                        sgd.step(net.trainableParameters(), k -> 1e-5, 1f);
                    } else {
                        net.forward(ps, new NDList(xb), false).singletonOrThrow().toFloatArray();
                    }
                }
                double s = (System.nanoTime() - t0) / 1e9;
                if (it >= warmup) {
                    rates.add(batch / s);
                }
            }
            return rates.stream().mapToDouble(Double::doubleValue).toArray();
        }
    }

    private ImageFolder folder() {
        Path d = data != null ? data : Path.of("../shared/data/hotdog");
        if (Files.isDirectory(d.resolve("train"))) {
            return ImageFolder.scan(d.resolve("train"), null);
        }
        return ImageFolder.scan(d, null);
    }

    private Preprocessing pre() {
        return new Preprocessing(Math.round(size * 256f / 224f), false, size, Preprocessing.IMAGENET_MEAN, Preprocessing.IMAGENET_STD);
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
        Preprocessing p = pre();
        List<Double> rates = new ArrayList<>();
        try (Loader l = new Loader(f.samples(), Transforms.bookTrain(p), Transforms.size(p), batch, true, 1, workers(), 4,
                Loader.OnBadImage.SKIP, new BadImages(s -> { }), new ImageDecoder(), 0)) {
            for (int epoch = 0; epoch < warmup + iterations; epoch++) {
                long t0 = System.nanoTime();
                int images = 0;
                for (Iterator<Loader.Batch> b = l.epoch(epoch, 0); b.hasNext(); ) {
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

    /** Training epochs on real JPEGs; returns the last one's {images/s, seconds waiting for data, total seconds}. */
    private double[] epoch() {
        ImageFolder f = folder();
        Preprocessing p = pre();
        try (NDManager m = Torch.newManager();
             Loader l = new Loader(f.samples(), Transforms.bookTrain(p), Transforms.size(p), batch, true, 1, workers(), 2,
                     Loader.OnBadImage.SKIP, new BadImages(s -> { }), new ImageDecoder(), epochs > 1 ? 1L << 30 : 0)) {
            Network net = network(m, new Backbone[1]);
            ParameterStore ps = new ParameterStore(m, false);
            GroupedSgd sgd = new GroupedSgd(1e-3, 0.9);
            double[] last = null;
            for (int epoch = 0; epoch < Math.max(1, epochs); epoch++) {
                Iterator<Loader.Batch> it = l.epoch(epoch, 0);
                int limit = iterations > 0 ? Math.min(iterations, l.batchesPerEpoch()) : l.batchesPerEpoch();
                long t0 = System.nanoTime();
                double wait = 0;
                int images = 0;
                for (int i = 0; i < limit && it.hasNext(); i++) {
                    long w0 = System.nanoTime();
                    Loader.Batch b = it.next();
                    wait += (System.nanoTime() - w0) / 1e9;
                    try (NDManager bm = m.newSubManager()) {
                        NDArray x = bm.create(FloatBuffer.wrap(b.data(), 0, b.size() * Transforms.size(p)), new Shape(b.size(), 3, size, size));
                        NDArray y = bm.create(b.labels()).toType(DataType.INT64, false);
                        try (GradientCollector gc = Torch.engine().newGradientCollector()) {
                            NDArray logits = net.forward(ps, new NDList(x), true).singletonOrThrow();
                            gc.backward(logits.logSoftmax(1).mul(y.oneHot(net.numClasses())).sum().neg());
                        }
                        sgd.step(net.trainableParameters(), k -> 1e-5, 1f);
                    }
                    images += b.size();
                }
                double total = (System.nanoTime() - t0) / 1e9;
                last = new double[] {images / total, wait, total};
            }
            return last;
        }
    }

    static long peakRssKb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux
        }
        return 0;
    }
}
