package dev.graft.app;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.graft.model.Torch;
import dev.graft.report.MetricsJson;
import dev.graft.train.Bundle;
import dev.graft.train.Checkpoint;
import dev.graft.train.FineTuning;
import dev.graft.train.RunConfig;
import dev.graft.train.TrainOptions;
import dev.graft.train.Trainer;
import dev.graft.train.TrainingListener;
import dev.graft.weights.Downloader;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Runs one training job into an output folder: config first, checkpoints while it runs, bundle and metrics after. */
final class Runs {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).findAndRegisterModules();
    static final String CONFIG = "config.json";
    static final String CHECKPOINT = "checkpoint.safetensors";

    private Runs() {
    }

    static RunConfig readConfig(Path out) throws IOException {
        Path f = out.resolve(CONFIG);
        if (!Files.isRegularFile(f)) {
            throw new IllegalArgumentException(out + " has no " + CONFIG + "; --resume needs the --out folder of an earlier graft train run");
        }
        return JSON.readValue(f.toFile(), RunConfig.class);
    }

    static TrainOptions options(RunConfig cfg, Path out, PrintStream log) {
        TrainOptions o = TrainOptions.defaults(log::println)
                .withOnBadImage(FineTuning.onBadImage(cfg.onBadImage()))
                .withMaxPixels(cfg.maxPixels());
        if (cfg.workers() > 0) {
            o = o.withWorkers(cfg.workers());
        }
        return out == null ? o : o.withCheckpoint(out.resolve(CHECKPOINT), cfg.checkpointEvery());
    }

    /**
     * Trains with {@code cfg} into {@code out}; with {@code resume}, continues from the checkpoint there.
     * Writes config.json, the bundle (model.json, weights.safetensors, labels.json), metrics.json and report.html.
     */
    static FineTuning.Result train(RunConfig cfg, Path out, boolean resume, PrintStream console, boolean progressBar,
                                   List<TrainingListener> extra) throws IOException {
        return train(cfg, out, resume, console, progressBar, extra, true);
    }

    static FineTuning.Result train(RunConfig cfg, Path out, boolean resume, PrintStream console, boolean progressBar,
                                   List<TrainingListener> extra, boolean saveModel) throws IOException {
        Files.createDirectories(out);
        Checkpoint.State state = null;
        Path ckpt = out.resolve(CHECKPOINT);
        if (resume) {
            if (!Files.isRegularFile(ckpt)) {
                throw new IllegalArgumentException(Bundle.isBundle(out)
                        ? "the run in " + out + " has finished (its model is there); nothing to resume"
                        : out + " has no " + CHECKPOINT + " to resume from (the run stopped before its first checkpoint; start it again)");
            }
            state = Checkpoint.load(ckpt);
        } else {
            JSON.writeValue(out.resolve(CONFIG).toFile(), cfg);
            Files.deleteIfExists(ckpt);
        }
        List<TrainingListener> listeners = new ArrayList<>();
        listeners.add(new Console(console, progressBar));
        listeners.addAll(extra);
        FineTuning.Result r;
        try (NDManager m = Torch.newManager()) {
            r = FineTuning.run(cfg, new Downloader(Downloader.defaultCache(), console::println, progressBar), m,
                    options(cfg, out, console), listeners, state);
            if (saveModel) {
                Bundle.save(out, r, cfg);
            }
            Files.deleteIfExists(ckpt);
            MetricsJson.write(out.resolve("metrics.json"), r, cfg);
            Reports.write(out, r, cfg);
        }
        console.printf(Locale.ROOT, "%s: test accuracy %.4f after %d epoch(s), %s; %d image(s) skipped%s%n", cfg.recipe().mode().label(),
                r.testAcc(), r.history().size(), Console.human(r.seconds()), r.badImages().count(),
                r.zeroShot() != null ? "; source model zero-shot: " + r.zeroShot() : "");
        console.println((saveModel ? "model, " : "") + "metrics.json and report.html written to " + out);
        return r;
    }

    /** Ctrl-C: finish the batch, write a checkpoint, exit; a second Ctrl-C exits at once. */
    static void installInterruptHandler(PrintStream console) {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("INT"), sig -> {
                if (Trainer.stopRequested()) {
                    console.println("\ngraft: interrupted again, exiting without a checkpoint");
                    Runtime.getRuntime().halt(130);
                }
                console.println("\ngraft: stopping after this batch and writing a checkpoint (Ctrl-C again to quit at once)");
                Trainer.requestStop();
            });
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            // no signal support on this platform: Ctrl-C ends the JVM as usual
        }
    }

    static boolean interactive() {
        return System.console() != null;
    }
}
