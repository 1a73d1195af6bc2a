package dev.graft.train;

import dev.graft.train.Recipe.Augmentation;
import dev.graft.train.Recipe.ClassWeights;
import dev.graft.train.Recipe.HeadInit;
import dev.graft.train.Recipe.Mode;
import dev.graft.train.Recipe.Optimization;
import dev.graft.train.Recipe.Reduction;
import dev.graft.train.Recipe.Regularisation;
import dev.graft.train.Recipe.Schedule;
import dev.graft.train.Recipe.Search;
import dev.graft.train.Recipe.Selection;
import dev.graft.train.Recipe.Shape;

/** Changes knobs of a recipe one by one, as the command line's flags do; the result is checked like any recipe. */
public final class RecipeBuilder {
    private String name;
    private Mode mode;
    private Optimization o;
    private Schedule s;
    private Augmentation a;
    private Regularisation r;
    private Selection sel;
    private HeadInit headInit;
    private Search search;
    private long seed;

    RecipeBuilder(Recipe x) {
        name = x.name();
        mode = x.mode();
        o = x.optimization();
        s = x.schedule();
        a = x.augmentation();
        r = x.regularisation();
        sel = x.selection();
        headInit = x.headInit();
        search = x.search();
        seed = x.seed();
    }

    public RecipeBuilder name(String v) {
        name = v;
        return this;
    }

    public RecipeBuilder mode(Mode v) {
        mode = v;
        return this;
    }

    public RecipeBuilder optimizer(Optimizer.Kind v) {
        o = new Optimization(v, o.lr(), o.loss(), o.headLrMult(), o.weightDecay(), v == Optimizer.Kind.SGD, o.momentum(), o.lrGroups(), o.lrMinRatio());
        return this;
    }

    public RecipeBuilder lr(double v) {
        o = o.withLr(v);
        return this;
    }

    public RecipeBuilder lossReduction(Reduction v) {
        o = new Optimization(o.optimizer(), o.lr(), v, o.headLrMult(), o.weightDecay(), o.decayNormAndBias(), o.momentum(), o.lrGroups(), o.lrMinRatio());
        return this;
    }

    public RecipeBuilder headLrMult(double v) {
        o = new Optimization(o.optimizer(), o.lr(), o.loss(), v, o.weightDecay(), o.decayNormAndBias(), o.momentum(), o.lrGroups(), o.lrMinRatio());
        return this;
    }

    public RecipeBuilder weightDecay(double v) {
        o = new Optimization(o.optimizer(), o.lr(), o.loss(), o.headLrMult(), v, o.decayNormAndBias(), o.momentum(), o.lrGroups(), o.lrMinRatio());
        return this;
    }

    public RecipeBuilder momentum(double v) {
        o = new Optimization(o.optimizer(), o.lr(), o.loss(), o.headLrMult(), o.weightDecay(), o.decayNormAndBias(), v, o.lrGroups(), o.lrMinRatio());
        return this;
    }

    public RecipeBuilder lrGroups(int v) {
        o = new Optimization(o.optimizer(), o.lr(), o.loss(), o.headLrMult(), o.weightDecay(), o.decayNormAndBias(), o.momentum(), v, o.lrMinRatio());
        return this;
    }

    public RecipeBuilder lrMinRatio(double v) {
        o = new Optimization(o.optimizer(), o.lr(), o.loss(), o.headLrMult(), o.weightDecay(), o.decayNormAndBias(), o.momentum(), o.lrGroups(), v);
        return this;
    }

    public RecipeBuilder epochs(int v) {
        s = new Schedule(s.shape(), v, s.batchSize(), s.warmupSteps(), s.freezeEpochs());
        return this;
    }

    public RecipeBuilder batchSize(int v) {
        s = new Schedule(s.shape(), s.epochs(), v, s.warmupSteps(), s.freezeEpochs());
        return this;
    }

    public RecipeBuilder schedule(Shape v) {
        s = new Schedule(v, s.epochs(), s.batchSize(), s.warmupSteps(), s.freezeEpochs());
        return this;
    }

    public RecipeBuilder warmupSteps(int v) {
        s = new Schedule(s.shape(), s.epochs(), s.batchSize(), v, s.freezeEpochs());
        return this;
    }

    public RecipeBuilder freezeEpochs(int v) {
        s = new Schedule(s.shape(), s.epochs(), s.batchSize(), s.warmupSteps(), v);
        return this;
    }

    public RecipeBuilder augment(boolean v) {
        a = new Augmentation(v, a.minCropScale(), a.mixup(), a.cutmix());
        return this;
    }

    public RecipeBuilder minCropScale(double v) {
        a = new Augmentation(a.enabled(), v, a.mixup(), a.cutmix());
        return this;
    }

    public RecipeBuilder mixup(double v) {
        a = new Augmentation(a.enabled(), a.minCropScale(), v, a.cutmix());
        return this;
    }

    public RecipeBuilder cutmix(double v) {
        a = new Augmentation(a.enabled(), a.minCropScale(), a.mixup(), v);
        return this;
    }

    public RecipeBuilder labelSmoothing(double v) {
        r = new Regularisation(v, r.classWeights(), r.bnMomentum(), r.frozenBatchNorm());
        return this;
    }

    public RecipeBuilder classWeights(ClassWeights v) {
        r = new Regularisation(r.labelSmoothing(), v, r.bnMomentum(), r.frozenBatchNorm());
        return this;
    }

    public RecipeBuilder bnMomentum(Double v) {
        r = new Regularisation(r.labelSmoothing(), r.classWeights(), v, r.frozenBatchNorm());
        return this;
    }

    public RecipeBuilder frozenBatchNorm(boolean v) {
        r = new Regularisation(r.labelSmoothing(), r.classWeights(), r.bnMomentum(), v);
        return this;
    }

    public RecipeBuilder validation(double v) {
        sel = new Selection(v, sel.patience(), sel.testEachEpoch(), sel.keepBestEpoch());
        return this;
    }

    public RecipeBuilder patience(int v) {
        sel = new Selection(sel.validation(), v, sel.testEachEpoch(), sel.keepBestEpoch());
        return this;
    }

    public RecipeBuilder testEachEpoch(boolean v) {
        sel = new Selection(sel.validation(), sel.patience(), v, sel.keepBestEpoch());
        return this;
    }

    public RecipeBuilder headInit(HeadInit v) {
        headInit = v;
        return this;
    }

    public RecipeBuilder search(Search v) {
        search = v;
        return this;
    }

    public RecipeBuilder seed(long v) {
        seed = v;
        return this;
    }

    public Recipe build() {
        return new Recipe(name, mode, o, s, a, r, sel, headInit, search, seed);
    }
}
