package dev.graft.app;

import dev.graft.train.Recipe;
import dev.graft.train.RecipeBuilder;
import picocli.CommandLine.Option;

/** The book's knobs on the command line; each one given overrides the chosen recipe's value. */
final class RecipeOptions {
    @Option(names = "--recipe", defaultValue = "auto", description = "auto (graft's default: a search over the probe and fine-tunes at "
            + "rates found from the data, decided on held-out training images) or book (the book's fixed numbers). Default: ${DEFAULT-VALUE}")
    Recipe.Preset recipe;

    @Option(names = "--quality", description = "auto's effort: fast (the probe and one fine-tune, about a minute more), medium (a race of "
            + "a few fine-tunes, the winner retrained on every image) or best (a wider, longer race). Default: medium")
    Recipe.Quality quality;

    @Option(names = "--time-limit", converter = TimeLimit.class, description = "bound on the whole run, e.g. 90s, 10m, 1.5h (auto keeps "
            + "the best model found when it runs out)")
    Double timeLimit;

    @Option(names = "--optimizer", description = "sgd (momentum; the CNNs' fine-tune) or adamw (decoupled weight decay, none on norms "
            + "and biases; ViT and ConvNeXt). Default: the recipe's (auto: by family; book: sgd)")
    dev.graft.train.Optimizer.Kind optimizer;

    @Option(names = "--mode", defaultValue = "finetune", description = "finetune, scratch, frozen or probe. Default: ${DEFAULT-VALUE}")
    Recipe.Mode mode;

    @Option(names = "--epochs", converter = Ranges.AtLeastOne.class, description = "passes over the training set (book: 5)")
    Integer epochs;

    @Option(names = "--batch-size", converter = Ranges.AtLeastOne.class, description = "examples per step (book: 128)")
    Integer batchSize;

    @Option(names = "--lr", converter = LearningRate.Converter.class, description = "learning rate of the copied layers, for "
            + "summed losses (book: 5e-5 finetune, 5e-4 scratch); 'find' runs graft lr-find first and uses its suggestion")
    LearningRate lr;

    @Option(names = "--head-lr-mult", converter = Ranges.Positive.class, description = "the new head learns at lr x this (book: 10)")
    Double headLrMult;

    @Option(names = "--weight-decay", converter = Ranges.NonNegative.class, description = "book: 0.001")
    Double weightDecay;

    @Option(names = "--momentum", converter = Ranges.Fraction.class, description = "SGD momentum (book: 0)")
    Double momentum;

    @Option(names = "--loss", description = "sum (the book's train_batch_ch13: per-example losses summed before backward) or mean")
    Recipe.Reduction loss;

    @Option(names = "--schedule", description = "constant, cosine or one-cycle (fastai's fit_one_cycle, with its momentum cycle)")
    Recipe.Shape schedule;

    @Option(names = "--warmup-steps", converter = Ranges.AtLeastZero.class, description = "linear warm-up steps")
    Integer warmup;

    @Option(names = "--augment", arity = "1", description = "true: the book's train_augs; false: the test transform")
    Boolean augment;

    @Option(names = "--min-crop-scale", converter = Ranges.Share.class, description = "smallest RandomResizedCrop area, a fraction of the image (book: 0.08)")
    Double minCropScale;

    @Option(names = "--validation", converter = Ranges.Fraction.class, description = "fraction of train held out to pick the best epoch (book: 0)")
    Double validation;

    @Option(names = "--head-init", description = "xavier (book), source-class (exercise 4: rows from the source classifier) or probe (LP-FT)")
    Recipe.HeadInit headInit;

    @Option(names = "--bn-momentum", description = "BatchNorm statistics momentum, PyTorch's sense (default 0.1, PyTorch's); 'source' keeps the source framework's (Keras: 0.01)")
    String bnMomentum;

    @Option(names = "--frozen-batchnorm", arity = "1", description = "true: BatchNorm keeps its running statistics while the weights train (auto: true; book: false)")
    Boolean frozenBatchNorm;

    @Option(names = "--patience", converter = Ranges.AtLeastZero.class, description = "with a validation split: stop after N epochs without a better validation result (auto: 3)")
    Integer patience;

    @Option(names = "--label-smoothing", converter = Ranges.Fraction.class, description = "cross-entropy against smoothed labels (fastai: 0.1)")
    Double labelSmoothing;

    @Option(names = "--mixup", converter = Ranges.NonNegative.class, description = "MixUp with Beta(alpha, alpha) (fastai: 0.4)")
    Double mixup;

    @Option(names = "--cutmix", converter = Ranges.NonNegative.class, description = "CutMix with Beta(alpha, alpha) (fastai: 1.0); with --mixup each batch uses one")
    Double cutmix;

    @Option(names = "--class-weights", description = "none, or balanced: each class's loss weighted by n / (classes x its count), as Keras's class_weight")
    Recipe.ClassWeights classWeights;

    @Option(names = "--freeze-epochs", converter = Ranges.AtLeastZero.class, description = "the head trains alone for N epochs first (fastai's fine_tune: 1)")
    Integer freezeEpochs;

    @Option(names = "--lr-groups", converter = Ranges.AtLeastOne.class, description = "learning-rate groups: the body split in depth order "
            + "into N-1 parts with rates rising from lr x --lr-min-ratio to lr, plus the head (book: 2)")
    Integer lrGroups;

    @Option(names = "--lr-min-ratio", converter = Ranges.Share.class, description = "the first body group's rate as a share of lr (fastai's slice(lr/100, lr): 0.01)")
    Double lrMinRatio;

    @Option(names = "--seed", defaultValue = "1", description = "seeds head init, data order, crops and dropout. Default: ${DEFAULT-VALUE}")
    long seed;

    Recipe resolve(int trainSize, String model) {
        return resolve(mode, headInit, seed, trainSize, model);
    }

    /**
     * The preset for this mode, model and seed, then every flag that was given; any change names the recipe
     * "+custom". Under auto a flag fixes its knob in every candidate of the search, and the search no longer
     * decides what the flag decided (--lr: the rate; --frozen-batchnorm: the BatchNorm mode; --epochs: the schedule's length).
     */
    Recipe resolve(Recipe.Mode m, Recipe.HeadInit init, long s, int trainSize, String model) {
        Recipe base = recipe == Recipe.Preset.AUTO ? Recipe.auto(m, model, trainSize, s) : Recipe.book(m, s);
        RecipeBuilder b = base.toBuilder();
        boolean custom = false;
        if (optimizer != null) {
            b.optimizer(optimizer);
            custom = true;
        }
        if (epochs != null) {
            b.epochs(epochs);
            custom = true;
        }
        if (batchSize != null) {
            b.batchSize(batchSize);
            custom = true;
        }
        if (lr != null && !lr.find()) {
            b.lr(lr.value());
            custom = true;
        }
        if (headLrMult != null) {
            b.headLrMult(headLrMult);
            custom = true;
        }
        if (weightDecay != null) {
            b.weightDecay(weightDecay);
            custom = true;
        }
        if (momentum != null) {
            b.momentum(momentum);
            custom = true;
        }
        if (loss != null) {
            b.lossReduction(loss);
            custom = true;
        }
        if (schedule != null) {
            b.schedule(schedule);
            custom = true;
        }
        if (warmup != null) {
            b.warmupSteps(warmup);
            custom = true;
        }
        if (augment != null) {
            b.augment(augment);
            custom = true;
        }
        if (minCropScale != null) {
            b.minCropScale(minCropScale);
            custom = true;
        }
        if (validation != null) {
            b.validation(validation);
            custom = true;
        }
        if (init != null && init != base.headInit()) {
            b.headInit(init);
            custom = true;
        }
        if (bnMomentum != null) {
            b.bnMomentum(bnMomentum.equals("source") ? null : parseMomentum(bnMomentum));
            custom = true;
        }
        if (frozenBatchNorm != null) {
            b.frozenBatchNorm(frozenBatchNorm);
            custom = true;
        }
        if (patience != null) {
            b.patience(patience);
            custom = true;
        }
        if (labelSmoothing != null) {
            b.labelSmoothing(labelSmoothing);
            custom = true;
        }
        if (mixup != null) {
            b.mixup(mixup);
            custom = true;
        }
        if (cutmix != null) {
            b.cutmix(cutmix);
            custom = true;
        }
        if (classWeights != null) {
            b.classWeights(classWeights);
            custom = true;
        }
        if (freezeEpochs != null) {
            b.freezeEpochs(freezeEpochs);
            custom = true;
        }
        if (lrGroups != null) {
            b.lrGroups(lrGroups);
            custom = true;
        }
        if (lrMinRatio != null) {
            b.lrMinRatio(lrMinRatio);
            custom = true;
        }
        if (base.search() != null) {
            Recipe.Search search = base.search();
            b.search(new Recipe.Search(quality != null ? quality : search.quality(), timeLimit != null ? timeLimit : 0,
                    lr == null || lr.find(), frozenBatchNorm == null));
        } else if (quality != null || timeLimit != null) {
            throw new IllegalArgumentException("--quality and --time-limit set the default recipe's search; they apply to --recipe auto "
                    + "with --mode finetune only");
        }
        return b.name(custom ? base.name() + "+custom" : base.name()).build();
    }

    static Double parseMomentum(String s) {
        try {
            return Double.valueOf(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--bn-momentum must be a number in (0, 1] or 'source', not '" + s + "'");
        }
    }
}
