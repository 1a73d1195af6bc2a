package dev.graft.app;

import dev.graft.data.DataException;
import dev.graft.data.Loader;
import dev.graft.data.OnBadImage;
import dev.graft.model.nn.Precision;
import dev.graft.train.Recipe;
import dev.graft.train.RunConfig;
import dev.graft.train.DivergedException;
import dev.graft.train.StoppedException;
import dev.graft.weights.DownloadException;
import dev.graft.weights.WeightsException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.UncheckedIOException;

/** The {@code graft} command. */
@Command(name = "graft", mixinStandardHelpOptions = true, version = "graft " + dev.graft.train.Version.VERSION,
        description = "Fine-tune pretrained image classifiers on a folder of images (Dive into Deep Learning, \"Fine-Tuning\").",
        subcommands = {TrainCommand.class, CheckCommand.class, LrFindCommand.class, DemoCommand.class, CompareCommand.class, PredictCommand.class, ExportCommand.class, ServeCommand.class, BenchCommand.class, ModelsCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");
        System.exit(run(args));
    }

    public static int run(String... args) {
        CommandLine cli = commandLine(new Main());
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> report(ex));
        return cli.execute(args);
    }

    /** A command line for a command, with graft's value converters (case-insensitive words, aliases). */
    static CommandLine commandLine(Object command) {
        CommandLine cli = new CommandLine(command);
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        cli.registerConverter(Recipe.Mode.class, Recipe.Mode::parse);
        cli.registerConverter(Recipe.HeadInit.class, Recipe.HeadInit::parse);
        cli.registerConverter(Recipe.Shape.class, Recipe.Shape::parse);
        cli.registerConverter(Recipe.Quality.class, Recipe.Quality::parse);
        cli.registerConverter(dev.graft.train.Optimizer.Kind.class, dev.graft.train.Optimizer.Kind::parse);
        cli.registerConverter(OnBadImage.class, OnBadImage::parse);
        cli.registerConverter(Precision.class, Precision::parse);
        cli.registerConverter(RunConfig.Normalization.class, RunConfig.Normalization::parse);
        return cli;
    }

    /** Turns failures into one clear message; a stack trace only for real bugs, or with GRAFT_DEBUG=1. */
    static int report(Exception ex) {
        Throwable e = ex;
        while ((e instanceof UncheckedIOException || e.getClass() == RuntimeException.class) && e.getCause() != null) {
            e = e.getCause();
        }
        boolean debug = System.getenv("GRAFT_DEBUG") != null;
        if (e instanceof StoppedException) {
            System.err.println("graft: " + e.getMessage());
            return 130;
        }
        if (e instanceof DataException || e instanceof WeightsException || e instanceof DownloadException
                || e instanceof IllegalArgumentException || e instanceof Loader.BadImageError
                || e instanceof DivergedException || e instanceof java.io.IOException
                || e instanceof IllegalStateException) {
            System.err.println("graft: error: " + e.getMessage());
            if (debug) {
                e.printStackTrace();
            }
            return e instanceof DivergedException ? 3 : 1;
        }
        System.err.println("graft: unexpected error: " + e + " (set GRAFT_DEBUG=1 for the stack trace, and please report it)");
        if (debug) {
            e.printStackTrace();
        }
        return 2;
    }
}
