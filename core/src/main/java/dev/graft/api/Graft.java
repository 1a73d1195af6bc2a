package dev.graft.api;

import dev.graft.run.OutputFolder;
import dev.graft.run.RunFolder;
import dev.graft.data.DataSplits;
import dev.graft.train.Recipe;
import dev.graft.train.RunConfig;
import dev.graft.train.StopSignal;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * graft from Java: fine-tune a pretrained model on a folder of images, as {@code graft train} does, then load the
 * result as a {@link Classifier}.
 *
 * <pre>{@code
 * RunConfig cfg = Graft.config(Path.of("photos"), "mobilenet_v1_0.75").weights(Path.of("mobilenet.h5")).build();
 * TrainedModel m = Graft.train(cfg, Path.of("runs/photos"));
 * try (Classifier c = Classifier.load(m.folder())) {
 *     System.out.println(c.predict(Path.of("photo.jpg"), 1).get(0).label());
 * }
 * }</pre>
 * The folder follows the command line's rules ({@link OutputFolder}): new or empty, or an earlier graft run's when
 * {@code overwrite} is set, which stays there, whole, until the new run has finished. Run one training at a time per
 * JVM (libtorch's threads are shared); classifiers can be used from any thread meanwhile.
 */
public final class Graft {
    private Graft() {
    }

    /**
     * A run on {@code data} (class folders, or train/ and test/ of class folders) with {@code model} (see
     * {@code graft models}): the default recipe, fine-tuning, sized to the number of training images found there,
     * everything else at the command line's defaults. Change any field on the builder.
     *
     * @param data  the data folder
     * @param model the architecture's name, as {@code graft models} lists it
     * @return a builder of the run's configuration
     */
    public static RunConfig.Builder config(Path data, String model) {
        return config(data, model, Recipe.Quality.MEDIUM);
    }

    /**
     * As {@link #config(Path, String)}, with the default recipe's effort: {@code FAST} (the probe and one fine-tune),
     * {@code MEDIUM} (the default: a race of learning rates and BatchNorm modes), {@code BEST} (more of both).
     *
     * @param data    the data folder
     * @param model   the architecture's name, as {@code graft models} lists it
     * @param quality the search's effort
     * @return a builder of the run's configuration
     */
    public static RunConfig.Builder config(Path data, String model, Recipe.Quality quality) {
        RunConfig probe = RunConfig.builder(data, model, Recipe.book(Recipe.Mode.FINETUNE, 1)).build();
        int trainSize = DataSplits.load(probe.source(), 0, 0, 0, 0, s -> { }).train().size();
        Recipe auto = Recipe.auto(Recipe.Mode.FINETUNE, model, trainSize, 1);
        return probe.toBuilder().recipe(auto.toBuilder().search(new Recipe.Search(quality, 0, true, true)).build());
    }

    /**
     * Trains as {@code cfg} says and writes the bundle, metrics.json and report.html into {@code out}, which must be
     * new or empty; prints nothing.
     *
     * @param cfg the run's configuration (saved as config.json beside the model)
     * @param out the run folder
     * @return the finished run's folder and figures
     * @throws IOException when the folder cannot be written
     */
    public static TrainedModel train(RunConfig cfg, Path out) throws IOException {
        return train(cfg, out, false, new PrintStream(OutputStream.nullOutputStream()));
    }

    /**
     * Trains as {@code cfg} says into {@code out}, printing what {@code graft train} prints (without a progress bar).
     *
     * @param cfg       the run's configuration
     * @param out       the run folder
     * @param overwrite replace an earlier graft run in {@code out} (it stays, whole, until this one has finished)
     * @param console   where the run's lines go
     * @return the finished run's folder and figures
     * @throws IOException when the folder cannot be written
     */
    public static TrainedModel train(RunConfig cfg, Path out, boolean overwrite, PrintStream console) throws IOException {
        return TrainedModel.of(out, RunFolder.train(cfg, out, overwrite, console, false, new StopSignal(), true));
    }
}
