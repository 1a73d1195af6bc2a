package dev.graft.app;

import dev.graft.run.Console;
import dev.graft.run.RunFolder;
import dev.graft.model.Architectures;
import dev.graft.model.nn.Precision;
import dev.graft.model.nn.Torch;
import dev.graft.train.FineTuning;
import dev.graft.train.Recipe;
import dev.graft.train.RecipeBuilder;
import dev.graft.train.RunConfig;
import dev.graft.train.StopSignal;
import dev.graft.weights.Checksum;
import dev.graft.weights.DownloadException;
import dev.graft.weights.Downloader;
import dev.graft.weights.SafeUnzip;
import dev.graft.weights.WeightsSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * The book's experiment as one command: fetch the hotdog images and ImageNet ResNet-18, fine-tune it, train the
 * same network from scratch, and print both results side by side.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Run the book's experiment: fine-tuned vs from-scratch ResNet-18 on hotdog / not-hotdog.")
final class DemoCommand implements Callable<Integer> {
    static final String HOTDOG_URL = "http://d2l-data.s3-accelerate.amazonaws.com/hotdog.zip";
    static final Checksum HOTDOG_SHA1 = Checksum.sha1("fba480ffa8aa7e0febbb511d181409f899b9baa5");

    @Option(names = "--data", description = "a local copy of the hotdog folder (train/, test/) instead of downloading hotdog.zip")
    Path data;

    @Option(names = "--weights", description = "a local ResNet-18 state_dict (.pth) instead of downloading torchvision's")
    Path weights;

    @Option(names = "--quick", description = "a first look in a few minutes: 2 epochs on 50 train and 50 test images per class, batch 32")
    boolean quick;

    @Option(names = "--epochs", converter = Ranges.AtLeastOne.class, description = "override the book's 5 epochs")
    Integer epochs;

    @Option(names = "--modes", split = ",", defaultValue = "finetune,scratch", description = "Default: ${DEFAULT-VALUE}")
    List<String> modes;

    @Option(names = "--out", defaultValue = "runs/demo", description = "output folder, one sub-folder per mode. Default: ${DEFAULT-VALUE}")
    Path out;

    @Option(names = "--seed", defaultValue = "1")
    long seed;

    @Option(names = "--overwrite", description = "replace an earlier demo's runs in --out")
    boolean overwrite;

    @Option(names = "--threads", converter = Ranges.AtLeastZero.class, defaultValue = "0", description = "engine compute threads (0: one per core)")
    int threads;

    @Override
    public Integer call() throws Exception {
        Torch.threads(threads);
        StopSignal stop = Interrupts.interruptible(System.out);
        boolean progress = Interrupts.interactive();
        Downloader dl = new Downloader(Downloader.defaultCache(), System.out::println, progress);
        Path dataDir = data != null ? data : fetchHotdog(dl);
        boolean needWeights = modes.stream().anyMatch(m -> Recipe.Mode.parse(m) != Recipe.Mode.SCRATCH);
        Path w = weights;
        if (w == null && needWeights) {
            WeightsSpec spec = Architectures.get("resnet18").weights();
            try {
                w = dl.fetch(spec.url(), spec.name(), spec.cacheName(), spec.checksum());
            } catch (DownloadException e) {
                throw offline("the ImageNet ResNet-18 weights (" + spec.url() + ")", e);
            }
        }
        List<String[]> rows = new ArrayList<>();
        for (String mode : modes) {
            Recipe.Mode m = Recipe.Mode.parse(mode);
            RecipeBuilder r = Recipe.book(m, seed).toBuilder();
            if (quick) {
                r.name("book-quick").epochs(2).batchSize(32);
            }
            if (epochs != null) {
                r.epochs(epochs);
            }
            // the book's experiment, as the book runs it: float32
            RunConfig cfg = RunConfig.builder(dataDir, "resnet18", r.build()).weights(m == Recipe.Mode.SCRATCH ? null : w)
                    .perClass(quick ? 50 : 0).testPerClass(quick ? 50 : 0).precision(Precision.FP32).build();
            System.out.println("\n== " + m.label() + " ==");
            FineTuning.Result res = RunFolder.train(cfg, out.resolve(m.label()), overwrite, System.out, progress, stop, true);
            var last = res.history().get(res.history().size() - 1);
            rows.add(new String[] {m.label(), String.format(Locale.ROOT, "%.3f", last.trainLoss()), String.format(Locale.ROOT, "%.3f", last.trainAcc()),
                    String.format(Locale.ROOT, "%.3f", res.testAcc()), String.format(Locale.ROOT, "%.1f", last.examplesPerSec()),
                    Console.human(res.seconds())});
        }
        System.out.println("\nThe book's experiment (" + dataDir + "):");
        System.out.println(Table.render(new String[] {"mode", "train loss", "train acc", "test acc", "examples/sec", "time"}, rows));
        System.out.println("The book reports test accuracy ~0.94 fine-tuned and ~0.85 from scratch (5 epochs).");
        return 0;
    }

    private Path fetchHotdog(Downloader dl) throws IOException {
        Path dir = dl.cache().resolve("data").resolve("hotdog");
        if (Files.isDirectory(dir.resolve("train")) && Files.isDirectory(dir.resolve("test"))) {
            return dir;
        }
        Path zip;
        try {
            zip = dl.fetch(HOTDOG_URL, "data", "hotdog.zip", HOTDOG_SHA1);
        } catch (DownloadException e) {
            throw offline("the book's hotdog.zip (" + HOTDOG_URL + ")", e);
        }
        SafeUnzip.extract(zip, dl.cache().resolve("data"));
        if (!Files.isDirectory(dir.resolve("train"))) {
            throw new IOException(zip + " did not contain hotdog/train");
        }
        return dir;
    }

    private static IllegalArgumentException offline(String what, DownloadException e) {
        return new IllegalArgumentException("graft demo could not download " + what + ": " + e.getMessage()
                + "\nWithout a network, pass local copies: graft demo --data DIR --weights FILE"
                + "\n  --data DIR      the hotdog folder with train/hotdog, train/not-hotdog, test/hotdog, test/not-hotdog"
                + "\n  --weights FILE  torchvision's resnet18-f37072fd.pth (ImageNet ResNet-18 state_dict)"
                + "\n(or place them in the cache: " + Downloader.defaultCache() + ")");
    }

}
