package dev.graft.app;

import dev.graft.train.Recipe;
import picocli.CommandLine.Option;

import java.util.Locale;

/** The book's knobs on the command line; each one given overrides the chosen recipe's value. */
final class RecipeOptions {
    @Option(names = "--recipe", defaultValue = "book", description = "book (the book's fixed numbers) or auto (adapted to the data size). Default: ${DEFAULT-VALUE}")
    String recipe;

    @Option(names = "--mode", defaultValue = "finetune", description = "finetune, scratch, frozen or probe. Default: ${DEFAULT-VALUE}")
    String mode;

    @Option(names = "--epochs", description = "passes over the training set (book: 5)")
    Integer epochs;

    @Option(names = "--batch-size", description = "examples per step (book: 128)")
    Integer batchSize;

    @Option(names = "--lr", description = "learning rate of the copied layers; for summed losses (book: 5e-5 finetune, 5e-4 scratch)")
    Double lr;

    @Option(names = "--head-lr-mult", description = "the new head learns at lr x this (book: 10)")
    Double headLrMult;

    @Option(names = "--weight-decay", description = "book: 0.001")
    Double weightDecay;

    @Option(names = "--momentum", description = "SGD momentum (book: 0)")
    Double momentum;

    @Option(names = "--loss", description = "sum (the book's train_batch_ch13: per-example losses summed before backward) or mean")
    String loss;

    @Option(names = "--schedule", description = "constant or cosine")
    String schedule;

    @Option(names = "--warmup-steps", description = "linear warm-up steps")
    Integer warmup;

    @Option(names = "--augment", arity = "1", description = "true: the book's train_augs; false: the test transform")
    Boolean augment;

    @Option(names = "--min-crop-scale", description = "smallest RandomResizedCrop area, a fraction of the image (book: 0.08)")
    Double minCropScale;

    @Option(names = "--validation", description = "fraction of train held out to pick the best epoch (book: 0)")
    Double validation;

    @Option(names = "--head-init", description = "xavier (book) or source-class (exercise 4: rows from the source classifier)")
    String headInit;

    @Option(names = "--bn-momentum", description = "BatchNorm statistics momentum, PyTorch's sense (default 0.1, PyTorch's); 'source' keeps the source framework's (Keras: 0.01)")
    String bnMomentum;

    @Option(names = "--frozen-batchnorm", arity = "1", description = "true: BatchNorm keeps its running statistics while the weights train (auto: true; book: false)")
    Boolean frozenBatchNorm;

    @Option(names = "--seed", defaultValue = "1", description = "seeds head init, data order, crops and dropout. Default: ${DEFAULT-VALUE}")
    long seed;

    /** Resolves the preset, then applies every flag that was given. */
    Recipe resolve(int trainSize) {
        Recipe.Mode m = Recipe.Mode.parse(mode);
        Recipe base = switch (recipe.toLowerCase(Locale.ROOT)) {
            case "book" -> Recipe.book(m, seed);
            case "auto" -> Recipe.auto(m, trainSize, seed);
            default -> throw new IllegalArgumentException("--recipe must be book or auto, not " + recipe);
        };
        boolean custom = epochs != null || batchSize != null || lr != null || headLrMult != null || weightDecay != null
                || momentum != null || bnMomentum != null || frozenBatchNorm != null || loss != null || schedule != null || warmup != null || augment != null || minCropScale != null || validation != null;
        return new Recipe(custom ? base.name() + "+custom" : base.name(), m,
                epochs != null ? epochs : base.epochs(),
                batchSize != null ? batchSize : base.batchSize(),
                lr != null ? lr : base.lr(),
                headLrMult != null ? headLrMult : base.headLrMult(),
                weightDecay != null ? weightDecay : base.weightDecay(),
                momentum != null ? momentum : base.momentum(),
                loss != null ? Recipe.Reduction.valueOf(loss.toUpperCase(Locale.ROOT)) : base.lossReduction(),
                schedule != null ? Recipe.Schedule.valueOf(schedule.toUpperCase(Locale.ROOT)) : base.schedule(),
                warmup != null ? warmup : base.warmupSteps(),
                augment != null ? augment : base.augment(),
                minCropScale != null ? minCropScale : base.minCropScale(),
                validation != null ? validation : base.validation(),
                headInit != null ? Recipe.HeadInit.parse(headInit) : base.headInit(),
                bnMomentum == null ? base.bnMomentum() : bnMomentum.equals("source") ? null : Double.valueOf(bnMomentum),
                frozenBatchNorm != null ? frozenBatchNorm : base.frozenBatchNorm(),
                seed);
    }
}
