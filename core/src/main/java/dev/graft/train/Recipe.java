package dev.graft.train;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.Locale;

/**
 * What to learn and how, as nested typed records: the mode, the optimizer and its rates, the schedule, the
 * augmentation, the regularisation, how the run selects (validation, early stopping), how the new head starts, and,
 * for the default recipe, the search over candidates. Every record checks its own ranges, so a recipe built from
 * Java, from the CLI or from a saved config.json is valid or refused with the option's name. Saved with the model
 * (bundles and configs written before the nesting, with every field at the top level, still load: {@link #read}).
 */
public record Recipe(String name, Mode mode, Optimization optimization, Schedule schedule, Augmentation augmentation,
                     Regularisation regularisation, Selection selection, HeadInit headInit, Search search, long seed) {

    public Recipe {
        if (name == null || name.isBlank() || mode == null || optimization == null || schedule == null || augmentation == null
                || regularisation == null || selection == null || headInit == null) {
            throw new IllegalArgumentException("a recipe needs a name, mode, optimization, schedule, augmentation, regularisation, "
                    + "selection and head init");
        }
        if (schedule.freezeEpochs() > 0 && schedule.freezeEpochs() >= schedule.epochs()) {
            throw new IllegalArgumentException("--freeze-epochs must be 0 or fewer than --epochs (" + schedule.epochs() + ")");
        }
    }

    public enum Mode {
        FINETUNE, SCRATCH, FROZEN, PROBE;

        public static Mode parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT).replace('_', '-')) {
                case "finetune", "fine-tune" -> FINETUNE;
                case "scratch" -> SCRATCH;
                case "frozen", "freeze" -> FROZEN;
                case "probe", "linear-probe" -> PROBE;
                default -> throw new IllegalArgumentException("unknown mode '" + s + "' (finetune, scratch, frozen, probe)");
            };
        }

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The named starting points: the book's fixed numbers, or graft's search adapted to the data. */
    public enum Preset { BOOK, AUTO }

    public enum Reduction { SUM, MEAN }

    /** The learning rate's shape over the steps: constant, cosine decay to zero, or fastai's one-cycle (with its momentum cycle). */
    public enum Shape {
        CONSTANT, COSINE, ONE_CYCLE;

        public static Shape parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT).replace('_', '-')) {
                case "constant" -> CONSTANT;
                case "cosine" -> COSINE;
                case "one-cycle", "onecycle", "1cycle" -> ONE_CYCLE;
                default -> throw new IllegalArgumentException("unknown schedule '" + s + "' (constant, cosine, one-cycle)");
            };
        }

        public String label() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /** Whether the loss weighs classes by their rarity. */
    public enum ClassWeights { NONE, BALANCED }

    /**
     * How the new output layer starts: Xavier (the book), from the source classifier's rows of same-named classes
     * (the book's exercise 4), or from a linear probe fitted on the body's features ("LP-FT": fine-tuning then
     * starts from the probe's accuracy instead of from a random head that first drags the body around).
     */
    public enum HeadInit {
        XAVIER, SOURCE_CLASS, PROBE;

        public static HeadInit parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT).replace('_', '-')) {
                case "xavier" -> XAVIER;
                case "source-class", "source" -> SOURCE_CLASS;
                case "probe", "linear-probe" -> PROBE;
                default -> throw new IllegalArgumentException("unknown head init '" + s + "' (xavier, source-class, probe)");
            };
        }
    }

    /** The default recipe's effort: the probe and one fine-tune; a race of a few; a wider, longer race. */
    public enum Quality {
        FAST, MEDIUM, BEST;

        public static Quality parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "fast" -> FAST;
                case "medium" -> MEDIUM;
                case "best" -> BEST;
                default -> throw new IllegalArgumentException("unknown quality '" + s + "' (fast, medium, best)");
            };
        }

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * The optimizer and its rates.
     *
     * @param optimizer        sgd or adamw
     * @param lr               the copied layers' learning rate, for {@code loss}-reduced losses
     * @param loss             sum (the book's: per-example losses summed before backward) or mean
     * @param headLrMult       the new head learns at lr x this (book: 10)
     * @param weightDecay      L2 penalty for SGD, decoupled decay for AdamW
     * @param decayNormAndBias false: biases and norm parameters get no weight decay (torchvision's and timm's AdamW habit)
     * @param momentum         SGD's momentum, or AdamW's beta1
     * @param lrGroups         learning-rate groups: the body split in depth order into lrGroups - 1 parts, plus the head
     * @param lrMinRatio       the first body group's rate as a share of lr
     */
    public record Optimization(Optimizer.Kind optimizer, double lr, Reduction loss, double headLrMult, double weightDecay,
                               boolean decayNormAndBias, double momentum, int lrGroups, double lrMinRatio) {
        public Optimization {
            if (optimizer == null || loss == null) {
                throw new IllegalArgumentException("the optimization needs an optimizer and a loss reduction");
            }
            positive("--lr", lr);
            positive("--head-lr-mult", headLrMult);
            atLeast("--weight-decay", weightDecay, 0);
            if (!(momentum >= 0 && momentum < 1)) {
                throw new IllegalArgumentException("--momentum must be in [0, 1), not " + momentum);
            }
            if (lrGroups < 2) {
                throw new IllegalArgumentException("--lr-groups must be at least 2 (the body and the head), not " + lrGroups);
            }
            if (!(lrMinRatio > 0 && lrMinRatio <= 1)) {
                throw new IllegalArgumentException("--lr-min-ratio must be in (0, 1], not " + lrMinRatio);
            }
        }

        /** The learning rate of a mean-reduced loss that takes the same steps (lr x batch for summed losses). */
        public double meanLossLr(int batchSize) {
            return loss == Reduction.SUM ? lr * batchSize : lr;
        }

        public Optimization withLr(double v) {
            return new Optimization(optimizer, v, loss, headLrMult, weightDecay, decayNormAndBias, momentum, lrGroups, lrMinRatio);
        }
    }

    /**
     * How long and in what steps: the learning rate's shape, passes over the data, examples per step, linear warm-up
     * steps, and the epochs the head trains alone first (fastai's fine_tune).
     */
    public record Schedule(Shape shape, int epochs, int batchSize, int warmupSteps, int freezeEpochs) {
        public Schedule {
            if (shape == null) {
                throw new IllegalArgumentException("the schedule needs a shape");
            }
            atLeast("--epochs", epochs, 1);
            atLeast("--batch-size", batchSize, 1);
            atLeast("--warmup-steps", warmupSteps, 0);
            atLeast("--freeze-epochs", freezeEpochs, 0);
        }

        public Schedule withEpochs(int v) {
            return new Schedule(shape, v, batchSize, warmupSteps, freezeEpochs);
        }
    }

    /** The training transform: RandomResizedCrop from {@code minCropScale} of the photo and flips (or the test transform), and mixing. */
    public record Augmentation(boolean enabled, double minCropScale, double mixup, double cutmix) {
        public Augmentation {
            if (!(minCropScale > 0 && minCropScale <= 1)) {
                throw new IllegalArgumentException("--min-crop-scale must be in (0, 1], not " + minCropScale);
            }
            atLeast("--mixup", mixup, 0);
            atLeast("--cutmix", cutmix, 0);
        }
    }

    /**
     * Label smoothing, class weights, and BatchNorm: its statistics' momentum (PyTorch's sense; null keeps the source
     * framework's) and whether the statistics stay the source's while the weights train.
     */
    public record Regularisation(double labelSmoothing, ClassWeights classWeights, Double bnMomentum, boolean frozenBatchNorm) {
        public Regularisation {
            if (!(labelSmoothing >= 0 && labelSmoothing < 1)) {
                throw new IllegalArgumentException("--label-smoothing must be in [0, 1), not " + labelSmoothing);
            }
            if (classWeights == null) {
                throw new IllegalArgumentException("--class-weights must be none or balanced");
            }
            if (bnMomentum != null && !(bnMomentum > 0 && bnMomentum <= 1)) {
                throw new IllegalArgumentException("--bn-momentum must be in (0, 1], not " + bnMomentum);
            }
        }
    }

    /**
     * How a run picks its result: the share of training images held out for validation (0: none), epochs without a
     * better validation result before stopping (0: never early), whether the test set is evaluated every epoch (the
     * book prints it) or once at the end, and whether a run with validation ends with its best epoch's weights (or
     * its last: the default recipe's candidates, whose schedule anneals to its end).
     */
    public record Selection(double validation, int patience, boolean testEachEpoch, boolean keepBestEpoch) {
        public Selection(double validation, int patience, boolean testEachEpoch) {
            this(validation, patience, testEachEpoch, true);
        }

        public Selection {
            if (!(validation >= 0 && validation < 1)) {
                throw new IllegalArgumentException("--validation must be in [0, 1), not " + validation);
            }
            atLeast("--patience", patience, 0);
        }
    }

    /**
     * The default recipe's search: its effort, a bound on the whole run's seconds (0: none; the best model found so
     * far is kept when it runs out), and which knobs it decides from the data (false: the recipe's own value, e.g.
     * when the user gave --lr).
     */
    public record Search(Quality quality, double timeLimitSeconds, boolean searchLr, boolean searchBatchNorm) {
        public Search {
            if (quality == null) {
                throw new IllegalArgumentException("--quality must be fast, medium or best");
            }
            atLeast("--time-limit", timeLimitSeconds, 0);
        }
    }

    /** RandomResizedCrop's default scale range starts here (Inception's ImageNet augmentation). */
    public static final double BOOK_MIN_CROP_SCALE = 0.08;

    /** PyTorch's BatchNorm default, which the book's recipe trains with. */
    public static final double TORCH_BN_MOMENTUM = 0.1;

    /**
     * The book's recipe: SGD, batch 128, 5 epochs, weight decay 0.001, no momentum, summed loss; fine-tuning at
     * lr 5e-5 with the head at 10x, from scratch at lr 5e-4 with one group.
     */
    public static Recipe book(Mode mode, long seed) {
        boolean scratch = mode == Mode.SCRATCH;
        return new Recipe("book", mode,
                new Optimization(Optimizer.Kind.SGD, scratch ? 5e-4 : 5e-5, Reduction.SUM, scratch ? 1 : 10, 1e-3, true, 0, 2, 1),
                new Schedule(Shape.CONSTANT, 5, 128, 0, 0),
                new Augmentation(mode != Mode.PROBE, BOOK_MIN_CROP_SCALE, 0, 0),
                new Regularisation(0, ClassWeights.NONE, TORCH_BN_MOMENTUM, false),
                new Selection(0, 0, true), HeadInit.XAVIER, null, seed);
    }

    /**
     * graft's default: a search decided on training images held out from every candidate, never on the test set
     * ({@link RecipeSearch}). This is its base recipe, the one every fine-tune candidate starts from: a fifth of
     * the training images held out (stratified); the head starts as the linear probe on the rest (LP-FT); the
     * family's optimizer ({@link #optimizerFor}) at a mean loss, warm-up then cosine decay over a horizon of 10
     * epochs (warm-up: an epoch's steps, at most 10), batch 32 (16 up to 200 training images), every layer at the
     * same rate, early stopping on validation (patience: half the schedule) keeping the best epoch; crops of at
     * least 25% of the photo.
     * The search then sets the learning rate and BatchNorm mode from the data.
     */
    public static Recipe auto(Mode mode, String architecture, int trainSize, long seed) {
        boolean scratch = mode == Mode.SCRATCH;
        int batch = trainSize > 200 ? 32 : 16;
        boolean selects = mode == Mode.FINETUNE;
        Optimizer.Kind kind = optimizerFor(architecture);
        // from the probe head (LP-FT) every layer learns at the same rate (Kumar et al.): the head is trained already
        double head = scratch ? 1 : mode == Mode.FROZEN ? 10 : 1;
        Optimization o = kind == Optimizer.Kind.ADAMW
                ? new Optimization(kind, scratch ? 1e-3 : 1e-4, Reduction.MEAN, head, 0.05, false, 0.9, 2, 1)
                : new Optimization(kind, scratch ? 1e-1 : 3e-3, Reduction.MEAN, head, 1e-4, true, 0.9, 2, 1);
        int kept = selects ? (int) Math.round(trainSize * (1 - AUTO_VALIDATION)) : trainSize;
        int warmup = Math.min(10, Math.max(1, (kept + batch - 1) / batch));
        return new Recipe("auto", mode, o, new Schedule(Shape.COSINE, AUTO_HORIZON, batch, warmup, 0),
                new Augmentation(mode != Mode.PROBE, AUTO_MIN_CROP_SCALE, 0, 0),
                new Regularisation(0, ClassWeights.NONE, TORCH_BN_MOMENTUM, false),
                new Selection(selects ? AUTO_VALIDATION : 0, selects ? AUTO_PATIENCE : 0, !selects),
                scratch ? HeadInit.XAVIER : HeadInit.PROBE,
                selects ? new Search(Quality.MEDIUM, 0, true, true) : null, seed);
    }

    /**
     * The optimizer each family's reference recipe trains with: AdamW for the transformers and ConvNeXt (torchvision's
     * and timm's recipes for ViT and ConvNeXt), SGD with momentum for the other CNNs.
     */
    public static Optimizer.Kind optimizerFor(String architecture) {
        String a = architecture == null ? "" : architecture.toLowerCase(Locale.ROOT);
        return a.startsWith("vit") || a.startsWith("convnext") ? Optimizer.Kind.ADAMW : Optimizer.Kind.SGD;
    }

    /** The share of training images auto holds out to decide between its candidates. */
    static final double AUTO_VALIDATION = 0.2;

    /** Epochs without a better validation result before a candidate stops. */
    static final int AUTO_PATIENCE = 3;

    /** The epochs a fine-tune candidate's cosine schedule spans. */
    static final int AUTO_HORIZON = 10;

    /** Auto's crops keep at least a quarter of the photo. */
    static final double AUTO_MIN_CROP_SCALE = 0.25;

    /** Reads a recipe from JSON: the nested form, or the flat one bundles and configs had before it ({@link RecipeJson}). */
    @JsonCreator
    public static Recipe read(JsonNode n) {
        return RecipeJson.read(n);
    }

    /** A builder that starts from this recipe. */
    public RecipeBuilder toBuilder() {
        return new RecipeBuilder(this);
    }

    /** This recipe with one field changed. */
    public Recipe with(Optimization o) {
        return new Recipe(name, mode, o, schedule, augmentation, regularisation, selection, headInit, search, seed);
    }

    public Recipe with(Schedule s) {
        return new Recipe(name, mode, optimization, s, augmentation, regularisation, selection, headInit, search, seed);
    }

    public Recipe with(Regularisation r) {
        return new Recipe(name, mode, optimization, schedule, augmentation, r, selection, headInit, search, seed);
    }

    public Recipe with(Selection s) {
        return new Recipe(name, mode, optimization, schedule, augmentation, regularisation, s, headInit, search, seed);
    }

    /** A single training run of this recipe: no search around it. */
    public Recipe withoutSearch() {
        return new Recipe(name, mode, optimization, schedule, augmentation, regularisation, selection, headInit, null, seed);
    }

    /** The learning rate of a mean-reduced loss that takes the same steps. */
    public double meanLossLr() {
        return optimization.meanLossLr(schedule.batchSize());
    }

    /** One line per knob, for the start of a run. */
    public String describe() {
        Optimization o = optimization;
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                "recipe %s: mode=%s optimizer=%s lr=%.3g (head x%.3g) loss=%s%s weight_decay=%.3g%s momentum=%.3g epochs=%d batch=%d "
                        + "schedule=%s%s augment=%s%s validation=%.2f head_init=%s bn_momentum=%s%s%s seed=%d",
                name, mode.label(), o.optimizer().label(), o.lr(), o.headLrMult(), o.loss().name().toLowerCase(Locale.ROOT),
                o.loss() == Reduction.SUM ? String.format(Locale.ROOT, " (= mean-loss lr %.3g)", meanLossLr()) : "",
                o.weightDecay(), o.decayNormAndBias() || o.weightDecay() == 0 ? "" : " (not on norms and biases)", o.momentum(),
                schedule.epochs(), schedule.batchSize(), schedule.shape().label(),
                schedule.warmupSteps() > 0 ? " warmup=" + schedule.warmupSteps() : "", augmentation.enabled(),
                augmentation.enabled() && augmentation.minCropScale() != BOOK_MIN_CROP_SCALE
                        ? String.format(Locale.ROOT, " (crops >= %.2f)", augmentation.minCropScale()) : "", selection.validation(),
                headInit.name().toLowerCase(Locale.ROOT).replace('_', '-'),
                regularisation.bnMomentum() == null ? "source" : regularisation.bnMomentum(),
                regularisation.frozenBatchNorm() ? " frozen_batchnorm" : "", selection.patience() > 0 ? " patience=" + selection.patience() : "", seed));
        if (regularisation.labelSmoothing() > 0) {
            sb.append(" label_smoothing=").append(regularisation.labelSmoothing());
        }
        if (augmentation.mixup() > 0) {
            sb.append(" mixup=").append(augmentation.mixup());
        }
        if (augmentation.cutmix() > 0) {
            sb.append(" cutmix=").append(augmentation.cutmix());
        }
        if (regularisation.classWeights() != ClassWeights.NONE) {
            sb.append(" class_weights=balanced");
        }
        if (schedule.freezeEpochs() > 0) {
            sb.append(" freeze_epochs=").append(schedule.freezeEpochs());
        }
        if (o.lrGroups() > 2) {
            sb.append(String.format(Locale.ROOT, " lr_groups=%d (body from lr x %.3g)", o.lrGroups(), o.lrMinRatio()));
        }
        if (search != null) {
            sb.append(" search=").append(search.quality().label());
            if (search.timeLimitSeconds() > 0) {
                sb.append(String.format(Locale.ROOT, " time_limit=%.0fs", search.timeLimitSeconds()));
            }
        }
        return sb.toString();
    }

    static void positive(String option, double v) {
        if (!(v > 0) || !Double.isFinite(v)) {
            throw new IllegalArgumentException(option + " must be a positive number, not " + v);
        }
    }

    static void atLeast(String option, double v, double min) {
        if (!(v >= min) || !Double.isFinite(v)) {
            throw new IllegalArgumentException(option + " must be at least " + (min == Math.rint(min) ? String.valueOf((long) min) : min)
                    + ", not " + (v == Math.rint(v) && Double.isFinite(v) ? String.valueOf((long) v) : v));
        }
    }
}
