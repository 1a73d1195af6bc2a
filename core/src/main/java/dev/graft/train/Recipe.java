package dev.graft.train;

import java.util.Locale;

/**
 * Everything the trainer needs to know, as one immutable value whose fields are the book's knobs. It is printed
 * at start and saved with the model.
 *
 * @param name           "book" (the book's fixed numbers), "auto" (adapted to the data size) or "custom"
 * @param mode           finetune, scratch, frozen or probe
 * @param epochs         passes over the training set
 * @param batchSize      examples per optimizer step
 * @param lr             learning rate of the copied layers (of every layer for scratch)
 * @param headLrMult     the new output layer learns at lr x this (the book's param_group, 10)
 * @param weightDecay    L2 penalty added to every gradient, as torch.optim.SGD(weight_decay=...)
 * @param momentum       SGD momentum (0 in the book)
 * @param lossReduction  SUM: per-example losses summed before backward, as the book's train_batch_ch13;
 *                       MEAN: averaged (then the same lr steps batchSize times smaller)
 * @param schedule       constant, or cosine decay to 0 over all steps
 * @param warmupSteps    linear warm-up steps before the schedule
 * @param augment        the book's train_augs (RandomResizedCrop + flip); false: the test transform
 * @param minCropScale   smallest crop area RandomResizedCrop takes, as a fraction of the image (book: 0.08)
 * @param validation     fraction of train carved out to pick the best epoch (0: none, the book's way)
 * @param headInit       xavier (the book), source-class (rows copied from the source classifier) or probe
 *                       (a logistic regression on the body's features: "LP-FT")
 * @param bnMomentum     BatchNorm running-statistics momentum in PyTorch's sense (0.1: each batch moves them 10%);
 *                       null keeps the source framework's (Keras: 0.01, too slow to follow a new domain in a few
 *                       dozen steps, which leaves fine-tuned Keras models evaluating with stale statistics)
 * @param frozenBatchNorm BatchNorm layers normalise with their running statistics and leave them alone while the
 *                       weights train (torchvision's FrozenBatchNorm2d idea): no train/test mismatch, and batch
 *                       statistics of 16 augmented photos are noisier than ImageNet's. The book: false.
 * @param patience       with a validation split: stop after this many epochs without a better validation
 *                       result (0: run every epoch)
 * @param testEachEpoch  evaluate the test images after every epoch, as the book prints them; false when a
 *                       validation split decides and the test set is looked at once, at the end
 * @param labelSmoothing cross-entropy against (1 - eps) one-hot + eps / classes (Szegedy et al.; fastai: 0.1); 0: off
 * @param mixup          MixUp's Beta(alpha, alpha) (Zhang et al.; fastai: 0.4); 0: off
 * @param cutmix         CutMix's Beta(alpha, alpha) (Yun et al.; fastai: 1.0); 0: off; with MixUp, each batch uses one
 * @param classWeights   balanced: each class's loss weighted by n / (classes x its count), as Keras's class_weight
 * @param freezeEpochs   the head trains alone for this many epochs before the whole network (fastai's fine_tune)
 * @param lrGroups       learning-rate groups: the body split in depth order into lrGroups - 1 parts with rates rising
 *                       geometrically from lr x lrMinRatio to lr, and the head (the book: 2, body and head)
 * @param lrMinRatio     the first body group's rate as a share of lr (fastai's slice(lr/100, lr): 0.01)
 * @param seed           drives the head init, data order, crops and dropout
 */
public record Recipe(
        String name,
        Mode mode,
        int epochs,
        int batchSize,
        double lr,
        double headLrMult,
        double weightDecay,
        double momentum,
        Reduction lossReduction,
        Schedule schedule,
        int warmupSteps,
        boolean augment,
        double minCropScale,
        double validation,
        HeadInit headInit,
        Double bnMomentum,
        boolean frozenBatchNorm,
        int patience,
        boolean testEachEpoch,
        double labelSmoothing,
        double mixup,
        double cutmix,
        ClassWeights classWeights,
        int freezeEpochs,
        int lrGroups,
        double lrMinRatio,
        long seed) {

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

    /** RandomResizedCrop's default scale range starts here (Inception's ImageNet augmentation). */
    public static final double BOOK_MIN_CROP_SCALE = 0.08;

    /** Auto keeps crops of at least a third of the photo: on small sets tiny crops pull the head away from the test view. */
    static final double AUTO_MIN_CROP_SCALE = 0.35;

    /** PyTorch's BatchNorm default, which the book's recipe trains with. */
    public static final double TORCH_BN_MOMENTUM = 0.1;

    /** The named starting points: the book's fixed numbers, or adapted to the data. */
    public enum Preset { BOOK, AUTO }

    public enum Reduction { SUM, MEAN }

    /** constant, cosine decay to zero, or fastai's one-cycle (with its momentum cycle). */
    public enum Schedule {
        CONSTANT, COSINE, ONE_CYCLE;

        public static Schedule parse(String s) {
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

    public Recipe {
        if (epochs < 1 || batchSize < 1) {
            throw new IllegalArgumentException("epochs and batch size must be at least 1");
        }
        if (!(lr > 0) || headLrMult <= 0 || weightDecay < 0 || momentum < 0 || momentum >= 1) {
            throw new IllegalArgumentException("need lr > 0, head-lr-mult > 0, weight-decay >= 0, 0 <= momentum < 1");
        }
        if (bnMomentum != null && (bnMomentum <= 0 || bnMomentum > 1)) {
            throw new IllegalArgumentException("BatchNorm momentum must be in (0, 1]");
        }
        if (!(minCropScale > 0) || minCropScale > 1) {
            throw new IllegalArgumentException("the smallest crop scale must be in (0, 1]");
        }
        if (validation < 0 || validation >= 1) {
            throw new IllegalArgumentException("validation fraction must be in [0, 1)");
        }
        if (patience < 0) {
            throw new IllegalArgumentException("patience must be 0 or more epochs");
        }
        if (labelSmoothing < 0 || labelSmoothing >= 1 || mixup < 0 || cutmix < 0) {
            throw new IllegalArgumentException("need 0 <= label smoothing < 1, mixup >= 0, cutmix >= 0");
        }
        if (freezeEpochs < 0 || freezeEpochs >= epochs && freezeEpochs > 0) {
            throw new IllegalArgumentException("--freeze-epochs must be 0 or fewer than --epochs (" + epochs + ")");
        }
        if (lrGroups < 2 || !(lrMinRatio > 0) || lrMinRatio > 1) {
            throw new IllegalArgumentException("need at least 2 learning-rate groups and 0 < lr-min-ratio <= 1");
        }
    }

    /**
     * The book's recipe: SGD, batch 128, 5 epochs, weight decay 0.001, no momentum, summed loss; fine-tuning at
     * lr 5e-5 with the head at 10x, from scratch at lr 5e-4 with one group.
     */
    public static Recipe book(Mode mode, long seed) {
        boolean scratch = mode == Mode.SCRATCH;
        return new Recipe("book", mode, 5, 128, scratch ? 5e-4 : 5e-5, scratch ? 1 : 10, 1e-3, 0,
                Reduction.SUM, Schedule.CONSTANT, 0, mode != Mode.PROBE, BOOK_MIN_CROP_SCALE, 0, HeadInit.XAVIER, TORCH_BN_MOMENTUM, false,
                0, true, 0, 0, 0, ClassWeights.NONE, 0, 2, 1, seed);
    }

    /**
     * graft's default: a decision between a linear probe and the fine-tuned network, made on training images held
     * out from both, never on the test set. A fifth of the training images (stratified) is kept aside; the head
     * starts as the probe on the rest (lambda by cross-validation: "LP-FT"), so that before any step the network
     * IS the probe and its validation figures are epoch 0's; fine-tuning then runs while the validation result
     * improves (patience 3 epochs) and keeps its best epoch. When no epoch beats epoch 0, the result is the probe,
     * refitted on all training images (the same model as --mode probe). Fine-tuning as measured here: BatchNorm
     * keeps the source's statistics (batch statistics of 16 augmented photos are noise, and train and test behave
     * alike), crops keep at least 35% of the photo, batch 16 (32 above 200 images), momentum 0.9, a mean-loss lr of
     * 6.4e-5 with the head at 10x, warm-up and cosine decay over at most about 150 steps; the test set is evaluated
     * once, at the end.
     */
    public static Recipe auto(Mode mode, int trainSize, long seed) {
        int batch = trainSize > 200 ? 32 : 16;
        boolean selects = mode == Mode.FINETUNE;
        int kept = selects ? (int) Math.round(trainSize * (1 - AUTO_VALIDATION)) : trainSize;
        int stepsPerEpoch = Math.max(1, (kept + batch - 1) / batch);
        int epochs = Math.max(5, Math.min(40, (int) Math.ceil(AUTO_STEPS / stepsPerEpoch)));
        boolean scratch = mode == Mode.SCRATCH;
        double meanLr = scratch ? 1e-2 : 6.4e-5;
        return new Recipe("auto", mode, epochs, batch, meanLr / batch, scratch ? 1 : 10, 1e-3, 0.9,
                Reduction.SUM, Schedule.COSINE, Math.min(stepsPerEpoch, 10), mode != Mode.PROBE, AUTO_MIN_CROP_SCALE,
                selects ? AUTO_VALIDATION : 0, scratch ? HeadInit.XAVIER : HeadInit.PROBE, TORCH_BN_MOMENTUM, !scratch,
                selects ? AUTO_PATIENCE : 0, !selects, 0, 0, 0, ClassWeights.NONE, 0, 2, 1, seed);
    }

    /** The share of training images auto holds out to decide between the probe and the fine-tuned network. */
    static final double AUTO_VALIDATION = 0.2;

    /** Epochs without a better validation result before auto stops fine-tuning. */
    static final int AUTO_PATIENCE = 3;

    /** Optimizer steps the auto recipe aims for. */
    static final double AUTO_STEPS = 150;

    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Changes some knobs of a recipe; the result is checked like any recipe. */
    public static final class Builder {
        private String name;
        private Mode mode;
        private int epochs;
        private int batchSize;
        private double lr;
        private double headLrMult;
        private double weightDecay;
        private double momentum;
        private Reduction lossReduction;
        private Schedule schedule;
        private int warmupSteps;
        private boolean augment;
        private double minCropScale;
        private double validation;
        private HeadInit headInit;
        private Double bnMomentum;
        private boolean frozenBatchNorm;
        private int patience;
        private boolean testEachEpoch;
        private double labelSmoothing;
        private double mixup;
        private double cutmix;
        private ClassWeights classWeights;
        private int freezeEpochs;
        private int lrGroups;
        private double lrMinRatio;
        private long seed;

        Builder(Recipe r) {
            name = r.name;
            mode = r.mode;
            epochs = r.epochs;
            batchSize = r.batchSize;
            lr = r.lr;
            headLrMult = r.headLrMult;
            weightDecay = r.weightDecay;
            momentum = r.momentum;
            lossReduction = r.lossReduction;
            schedule = r.schedule;
            warmupSteps = r.warmupSteps;
            augment = r.augment;
            minCropScale = r.minCropScale;
            validation = r.validation;
            headInit = r.headInit;
            bnMomentum = r.bnMomentum;
            frozenBatchNorm = r.frozenBatchNorm;
            patience = r.patience;
            testEachEpoch = r.testEachEpoch;
            labelSmoothing = r.labelSmoothing;
            mixup = r.mixup;
            cutmix = r.cutmix;
            classWeights = r.classWeights;
            freezeEpochs = r.freezeEpochs;
            lrGroups = r.lrGroups;
            lrMinRatio = r.lrMinRatio;
            seed = r.seed;
        }

        public Builder name(String v) {
            name = v;
            return this;
        }

        public Builder mode(Mode v) {
            mode = v;
            return this;
        }

        public Builder epochs(int v) {
            epochs = v;
            return this;
        }

        public Builder batchSize(int v) {
            batchSize = v;
            return this;
        }

        public Builder lr(double v) {
            lr = v;
            return this;
        }

        public Builder headLrMult(double v) {
            headLrMult = v;
            return this;
        }

        public Builder weightDecay(double v) {
            weightDecay = v;
            return this;
        }

        public Builder momentum(double v) {
            momentum = v;
            return this;
        }

        public Builder lossReduction(Reduction v) {
            lossReduction = v;
            return this;
        }

        public Builder schedule(Schedule v) {
            schedule = v;
            return this;
        }

        public Builder warmupSteps(int v) {
            warmupSteps = v;
            return this;
        }

        public Builder augment(boolean v) {
            augment = v;
            return this;
        }

        public Builder minCropScale(double v) {
            minCropScale = v;
            return this;
        }

        public Builder validation(double v) {
            validation = v;
            return this;
        }

        public Builder headInit(HeadInit v) {
            headInit = v;
            return this;
        }

        public Builder bnMomentum(Double v) {
            bnMomentum = v;
            return this;
        }

        public Builder frozenBatchNorm(boolean v) {
            frozenBatchNorm = v;
            return this;
        }

        public Builder patience(int v) {
            patience = v;
            return this;
        }

        public Builder testEachEpoch(boolean v) {
            testEachEpoch = v;
            return this;
        }

        public Builder labelSmoothing(double v) {
            labelSmoothing = v;
            return this;
        }

        public Builder mixup(double v) {
            mixup = v;
            return this;
        }

        public Builder cutmix(double v) {
            cutmix = v;
            return this;
        }

        public Builder classWeights(ClassWeights v) {
            classWeights = v;
            return this;
        }

        public Builder freezeEpochs(int v) {
            freezeEpochs = v;
            return this;
        }

        public Builder lrGroups(int v) {
            lrGroups = v;
            return this;
        }

        public Builder lrMinRatio(double v) {
            lrMinRatio = v;
            return this;
        }

        public Builder seed(long v) {
            seed = v;
            return this;
        }

        public Recipe build() {
            return new Recipe(name, mode, epochs, batchSize, lr, headLrMult, weightDecay, momentum, lossReduction, schedule,
                    warmupSteps, augment, minCropScale, validation, headInit, bnMomentum, frozenBatchNorm, patience,
                    testEachEpoch, labelSmoothing, mixup, cutmix, classWeights, freezeEpochs, lrGroups, lrMinRatio, seed);
        }
    }

    /** The learning rate of a mean-reduced loss that takes the same steps (lr x batch for summed losses). */
    public double meanLossLr() {
        return lossReduction == Reduction.SUM ? lr * batchSize : lr;
    }

    /** One line per knob, for the start of a run. */
    public String describe() {
        return String.format(Locale.ROOT,
                "recipe %s: mode=%s epochs=%d batch=%d lr=%.3g (head x%.3g) loss=%s%s weight_decay=%.3g momentum=%.3g "
                        + "schedule=%s%s augment=%s%s validation=%.2f head_init=%s bn_momentum=%s%s%s seed=%d",
                name, mode.label(), epochs, batchSize, lr, headLrMult, lossReduction.name().toLowerCase(Locale.ROOT),
                lossReduction == Reduction.SUM ? String.format(Locale.ROOT, " (= mean-loss lr %.3g)", meanLossLr()) : "",
                weightDecay, momentum, schedule.label(),
                warmupSteps > 0 ? " warmup=" + warmupSteps : "", augment,
                augment && minCropScale != BOOK_MIN_CROP_SCALE ? String.format(Locale.ROOT, " (crops >= %.2f)", minCropScale) : "", validation,
                headInit.name().toLowerCase(Locale.ROOT).replace('_', '-'), bnMomentum == null ? "source" : bnMomentum,
                frozenBatchNorm ? " frozen_batchnorm" : "", patience > 0 ? " patience=" + patience : "", seed)
                + (labelSmoothing > 0 ? " label_smoothing=" + labelSmoothing : "") + (mixup > 0 ? " mixup=" + mixup : "")
                + (cutmix > 0 ? " cutmix=" + cutmix : "") + (classWeights != ClassWeights.NONE ? " class_weights=balanced" : "")
                + (freezeEpochs > 0 ? " freeze_epochs=" + freezeEpochs : "")
                + (lrGroups > 2 ? String.format(Locale.ROOT, " lr_groups=%d (body from lr x %.3g)", lrGroups, lrMinRatio) : "");
    }
}
