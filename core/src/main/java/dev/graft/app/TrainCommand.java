package dev.graft.app;

import dev.graft.run.RunFolder;
import ai.djl.ndarray.NDManager;
import dev.graft.model.nn.Torch;
import dev.graft.train.Checkpoint;
import dev.graft.train.FineTuning;
import dev.graft.train.RunConfig;
import dev.graft.train.StopSignal;
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

    @Option(names = "--out", description = "output folder (model bundle, metrics.json, report.html, checkpoint); "
            + "it must be new or empty, or an earlier run's with --overwrite. Default: a fresh runs/<mode>-N")
    Path out;

    @Option(names = "--overwrite", description = "replace the earlier run in --out")
    boolean overwrite;

    @Option(names = "--resume", description = "continue the run in this --out folder from its checkpoint")
    Path resume;

    @Option(names = "--resume-anyway", description = "resume even though the data or the recipe changed since the checkpoint (the report says so)")
    boolean resumeAnyway;

    @Option(names = "--checkpoint-every", converter = Ranges.AtLeastZero.class, defaultValue = "0", description = "also checkpoint every N optimizer steps (always at epoch ends)")
    int checkpointEvery;

    @Option(names = "--no-progress", description = "no progress bar (it is shown on terminals)")
    boolean noProgress;

    @Override
    public Integer call() throws Exception {
        Torch.threads(data.threads);
        StopSignal stop = Interrupts.interruptible(System.out);
        RunFolder folder;
        RunConfig cfg;
        Checkpoint.State state = null;
        if (resume != null) {
            folder = RunFolder.forResume(resume);
            cfg = folder.readConfig();
            state = folder.checkpoint();
        } else {
            data.root(); // --data or --labels is required
            cfg = data.config(recipe.resolve(data.trainSize(recipe.recipe), data.model), checkpointEvery).build();
            folder = RunFolder.forNewRun(out, cfg, overwrite, System.out);
        }
        try (NDManager m = Torch.newManager()) {
            if (resume == null && recipe.lr != null && recipe.lr.find()) {
                cfg = LrFindCommand.withSuggestion(cfg, m, folder);
            }
            boolean bar = !noProgress && Interrupts.interactive();
            FineTuning.Result r = FineTuning.run(cfg, folder.context(cfg, m, System.out, bar, stop, state, resumeAnyway, List.of()));
            folder.finish(r, cfg, true, System.out);
        }
        return 0;
    }
}
