package dev.graft.app;

import dev.graft.run.OutputFolder;
import dev.graft.run.RunFolder;
import ai.djl.ndarray.NDManager;
import dev.graft.model.nn.Torch;
import dev.graft.report.LrFindPage;
import dev.graft.train.LrFinder;
import dev.graft.train.RunConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** fastai's lr_find: the loss over an exponential learning-rate sweep, plotted, with the valley suggestion. */
@Command(name = "lr-find", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Sweep the learning rate on graft's own training step (fastai's lr_find: 100 steps from 1e-7 to 10, stopping when "
                + "the loss passes 4x its best), print the suggested rate and write lr-find.html (the plot) and lr-find.json.",
            "The recipe options apply as in train; the head keeps its multiple of the body's rate. train --lr find runs this first."})
final class LrFindCommand implements Callable<Integer> {
    @Mixin
    DataOptions data;

    @Mixin
    RecipeOptions recipe;

    @Option(names = "--out", description = "folder for lr-find.html and lr-find.json (default: a fresh runs/lr-find-N)")
    Path out;

    @Override
    public Integer call() throws Exception {
        data.root(); // --data or --labels is required
        Torch.threads(data.threads);
        RunConfig cfg = data.config(recipe.resolve(data.trainSize(recipe.recipe), data.model), 0).build();
        Path dir = out != null ? out : OutputFolder.fresh(Path.of("runs"), "lr-find");
        // only an earlier sweep's folder is replaced; anything else must be new or empty
        if (Files.isDirectory(dir) && !OutputFolder.isEmpty(dir) && !Files.exists(dir.resolve("lr-find.json"))) {
            throw new IllegalArgumentException("--out " + dir + " is not empty and holds no earlier sweep; choose a new or empty folder");
        }
        try (NDManager m = Torch.newManager()) {
            LrFinder.Sweep s = LrFinder.run(cfg, RunFolder.sweepContext(cfg, m, System.out, Interrupts.interactive()));
            LrFindPage.write(dir, s, cfg);
            System.out.println("plot and values written to " + dir.resolve("lr-find.html") + " and lr-find.json");
        }
        return 0;
    }

    /** train --lr find: the sweep first, then the run with its suggestion, both recorded in config.json and the bundle. */
    static RunConfig withSuggestion(RunConfig cfg, NDManager m, RunFolder folder) throws java.io.IOException {
        LrFinder.Sweep s = LrFinder.run(cfg, RunFolder.sweepContext(cfg, m, System.out, false));
        LrFindPage.write(folder.dir, s, cfg);
        var r = cfg.recipe();
        String name = r.name().endsWith("+custom") ? r.name() : r.name() + "+custom";
        RunConfig found = cfg.toBuilder().recipe(r.toBuilder().lr(s.recipeLr()).name(name).build()).lrFind(s).build();
        folder.writeConfig(found);
        return found;
    }

}
