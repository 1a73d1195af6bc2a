package dev.graft.api;

import dev.graft.train.FineTuning;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What {@link Graft#train} produced: the folder that holds the model bundle (load it with {@link Classifier#load}),
 * metrics.json and report.html, and the run's headline figures.
 *
 * @param folder       the run folder (the bundle, metrics.json, report.html)
 * @param classes      the class names, in the order of the model's outputs
 * @param testAccuracy top-1 accuracy on the test images (NaN when the data has none)
 * @param kept         which model the default recipe kept and why (null for a single training run)
 * @param epochs       epochs trained (0 for the probe)
 * @param seconds      wall-clock seconds of the whole run
 * @param stageSeconds seconds per stage (data and source model, head, search or training, test)
 * @param skippedImages images that could not be decoded and were skipped
 */
public record TrainedModel(Path folder, List<String> classes, double testAccuracy, String kept, long epochs, double seconds,
                           Map<String, Double> stageSeconds, int skippedImages) {
    /** The bundle's figures, read from a finished run's result. */
    static TrainedModel of(Path folder, FineTuning.Result r) {
        return new TrainedModel(folder, List.copyOf(r.classes()), r.testAcc(), r.selection(),
                r.history().stream().filter(e -> e.epoch() > 0).count(), r.seconds(), Map.copyOf(r.stages()), r.badImages().count());
    }

    /**
     * The file with every figure of the run (per epoch, per class, the search, the data check).
     *
     * @return metrics.json in the run folder
     */
    public Path metricsJson() {
        return folder.resolve("metrics.json");
    }

    /**
     * The run's report, for a browser.
     *
     * @return report.html in the run folder
     */
    public Path report() {
        return folder.resolve("report.html");
    }
}
