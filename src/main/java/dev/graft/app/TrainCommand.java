package dev.graft.app;

import dev.graft.data.ImageFolder;
import dev.graft.model.Torch;
import dev.graft.train.Recipe;
import dev.graft.train.RunConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Fine-tune (or train from scratch, or train a head on a frozen body) on a folder of images.")
final class TrainCommand implements Callable<Integer> {
    @Mixin
    DataOptions data;

    @Mixin
    RecipeOptions recipe;

    @Option(names = "--out", description = "output folder (model bundle, metrics.json, report.html, checkpoint). Default: runs/<mode>")
    Path out;

    @Option(names = "--resume", description = "continue the run in this --out folder from its checkpoint")
    Path resume;

    @Option(names = "--checkpoint-every", defaultValue = "0", description = "also checkpoint every N optimizer steps (always at epoch ends)")
    int checkpointEvery;

    @Option(names = "--no-progress", description = "no progress bar (it is shown on terminals)")
    boolean noProgress;

    @Override
    public Integer call() throws Exception {
        Torch.threads(data.threads);
        Runs.installInterruptHandler(System.out);
        if (resume != null) {
            RunConfig cfg = Runs.readConfig(resume);
            Runs.train(cfg, resume, true, System.out, !noProgress && Runs.interactive(), List.of());
            return 0;
        }
        if (data.data == null) {
            throw new IllegalArgumentException("--data DIR is required (the book's layout: DIR/train/<class>/*, DIR/test/<class>/*)");
        }
        RunConfig cfg = config(data, recipe, checkpointEvery);
        Path dir = out != null ? out : Path.of("runs", cfg.recipe().mode().label());
        Runs.train(cfg, dir, false, System.out, !noProgress && Runs.interactive(), List.of());
        return 0;
    }

    static RunConfig config(DataOptions d, RecipeOptions r, int checkpointEvery) {
        int trainSize = "auto".equalsIgnoreCase(r.recipe) ? countTrain(d) : 0;
        Recipe resolved = r.resolve(trainSize);
        return new RunConfig(d.data, d.model, d.weights, d.classifier, d.normalization, d.imageSize, d.shortSide, d.perClass,
                d.testPerClass, resolved, d.workers, d.onBadImage, d.maxPixels, checkpointEvery);
    }

    /** The auto recipe adapts to the number of training images the run will use. */
    static int countTrain(DataOptions d) {
        ImageFolder train = ImageFolder.book(d.data).train();
        if (d.perClass > 0) {
            train = train.subset(d.perClass, 0);
        }
        return train.size();
    }
}
