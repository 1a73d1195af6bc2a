package dev.graft.train;

import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import dev.graft.data.BadImages;
import dev.graft.data.ImageDecoder;
import dev.graft.data.ImageFolder;
import dev.graft.data.Loader;
import dev.graft.data.Preprocessing;
import dev.graft.data.Transforms;
import dev.graft.model.Network;
import dev.graft.model.Torch;
import dev.graft.weights.StateDict;
import dev.graft.weights.TensorData;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The book's {@code train_fine_tuning} as one small loop: batch, forward, loss, backward, grouped update,
 * metrics. Printing, progress bars, checkpoints and reports are {@link TrainingListener}s.
 */
public final class Trainer {
    /** Set by a Ctrl-C handler: the loop checkpoints after the current batch and stops. */
    private static volatile boolean stopRequested;

    /** The data of a run: training images, optional validation and test images, and their preprocessing. */
    public record Data(ImageFolder train, ImageFolder validation, ImageFolder test, Preprocessing preprocessing) {
    }

    /** Thrown when a run stops early on request; the checkpoint holds its state. */
    public static final class StoppedException extends RuntimeException {
        public StoppedException(String message) {
            super(message);
        }
    }

    /** Training diverged; the last good checkpoint (if any) is kept. */
    public static final class DivergedException extends RuntimeException {
        public DivergedException(String message) {
            super(message);
        }
    }

    private final Network net;
    private final Recipe recipe;
    private final Data data;
    private final TrainOptions opts;
    private final List<TrainingListener> listeners;
    private final BadImages bad;
    private final GroupedSgd sgd;
    private final Set<String> headNames;
    private Checkpoint.Progress progress = Checkpoint.Progress.start();
    private StateDict best;
    private Evaluation lastTest;
    private Evaluation lastVal;
    private long totalSteps;
    private int batchesPerEpoch;
    private FeatureSet cachedTrain;
    private FeatureSet cachedVal;
    private FeatureSet cachedTest;

    public Trainer(Network net, Recipe recipe, Data data, TrainOptions opts, List<TrainingListener> listeners) {
        this.net = net;
        this.recipe = recipe;
        this.data = data;
        this.opts = opts;
        this.listeners = List.copyOf(listeners);
        this.bad = new BadImages(opts.log());
        this.sgd = new GroupedSgd(recipe.weightDecay(), recipe.momentum());
        this.headNames = net.headParameters().keySet();
    }

    public static void requestStop() {
        stopRequested = true;
    }

    public static boolean stopRequested() {
        return stopRequested;
    }

    /** Clears a stop request (for embedding code that runs several trainings in one process). */
    public static void clearStopRequest() {
        stopRequested = false;
    }

    public Network network() {
        return net;
    }

    public Recipe recipe() {
        return recipe;
    }

    public Data data() {
        return data;
    }

    public BadImages badImages() {
        return bad;
    }

    public List<EpochMetrics> history() {
        return progress.history();
    }

    public Evaluation lastTest() {
        return lastTest;
    }

    public Evaluation lastValidation() {
        return lastVal;
    }

    public long totalSteps() {
        return totalSteps;
    }

    /** Continues from a checkpoint instead of the start. */
    public void resumeFrom(Checkpoint.State state) {
        StateDict sd = new StateDict("checkpoint");
        state.params().forEach(sd::put);
        net.loadAll(sd);
        sgd.load(state.momentum(), net.trainableParameters());
        if (!state.best().isEmpty()) {
            best = new StateDict("best");
            state.best().forEach(best::put);
        }
        progress = state.progress();
        progress = new Checkpoint.Progress(progress.epoch(), progress.batch(), progress.step(), progress.lossSum(),
                progress.correct(), progress.seen(), progress.seconds(), progress.waitSeconds(),
                new ArrayList<>(progress.history()), progress.bestValAcc(), progress.bestValLoss(), progress.bestEpoch());
    }

    private boolean useFeatureCache() {
        return net.isFrozenBody() && !recipe.augment() && opts.cacheFeatures();
    }

    /** Runs the remaining epochs; returns the history of epoch metrics. */
    public List<EpochMetrics> fit() {
        net.setFrozenBody(recipe.mode() == Recipe.Mode.FROZEN || recipe.mode() == Recipe.Mode.PROBE);
        net.setBatchNormStatisticsFrozen(recipe.frozenBatchNorm());
        listeners.forEach(l -> l.onStart(this));
        Preprocessing pre = data.preprocessing();
        int floats = Transforms.size(pre);
        Transforms.ImageTransform trainTf = recipe.augment()
                ? Transforms.randomResizedCrop(pre, recipe.minCropScale(), 1.0, 3.0 / 4.0, 4.0 / 3.0, true) : Transforms.bookTest(pre);
        ImageDecoder decoder = new ImageDecoder(opts.maxPixels());
        try (Loader train = new Loader(data.train().samples(), trainTf, floats, recipe.batchSize(), true, recipe.seed(),
                opts.workers(), opts.prefetch(), opts.onBadImage(), bad, decoder, opts.cacheBytes())) {
            batchesPerEpoch = train.batchesPerEpoch();
            totalSteps = (long) batchesPerEpoch * recipe.epochs();
            if (useFeatureCache()) {
                opts.log().accept("computing body features once (frozen body, no augmentation)");
                cachedTrain = FeatureSet.compute(net, data.train(), pre, opts, bad);
                cachedVal = data.validation() == null ? null : FeatureSet.compute(net, data.validation(), pre, opts, bad);
                cachedTest = data.test() == null ? null : FeatureSet.compute(net, data.test(), pre, opts, bad);
                batchesPerEpoch = (cachedTrain.size() + recipe.batchSize() - 1) / recipe.batchSize();
                totalSteps = (long) batchesPerEpoch * recipe.epochs();
            }
            ParameterStore ps = new ParameterStore(net.manager(), false);
            while (progress.epoch() < recipe.epochs()) {
                runEpoch(train, ps, floats);
            }
        }
        if (best != null && progress.bestEpoch() >= 0) {
            net.loadAll(best);
            opts.log().accept(String.format(Locale.ROOT, "keeping the weights of epoch %d (best validation accuracy %.3f)",
                    progress.bestEpoch() + 1, progress.bestValAcc()));
            if (data.test() != null && progress.bestEpoch() + 1 != progress.history().size()) {
                lastTest = evaluate(data.test(), cachedTest);
            }
        }
        listeners.forEach(l -> l.onEnd(this));
        return progress.history();
    }

    private void runEpoch(Loader train, ParameterStore ps, int floats) {
        int epoch = progress.epoch();
        Checkpoint.Progress p = progress;
        double lossSum = p.lossSum();
        long correct = p.correct();
        long seen = p.seen();
        double seconds = p.seconds();
        double wait = p.waitSeconds();
        long step = p.step();
        int batch = p.batch();
        Iterator<BatchData> it = batches(train, epoch, batch, floats);
        while (it.hasNext()) {
            long t0 = System.nanoTime();
            BatchData b = it.next();
            long t1 = System.nanoTime();
            wait += (t1 - t0) / 1e9;
            if (b.size() == 0) {
                batch++;
                continue;
            }
            double factor = scheduleFactor(step);
            float[] stats = step(ps, b, epoch, batch, factor);
            if (!Float.isFinite(stats[0])) {
                throw new DivergedException(String.format(Locale.ROOT,
                        "the training loss became %s at epoch %d, batch %d: stopping. Try a smaller --lr%s",
                        stats[0], epoch + 1, batch + 1, opts.checkpoint() != null
                                ? "; the last good checkpoint is " + opts.checkpoint() + " (resume with --resume)" : ""));
            }
            lossSum += stats[0];
            correct += (long) stats[1];
            seen += b.size();
            step++;
            batch++;
            seconds += (System.nanoTime() - t0) / 1e9;
            int batchNo = batch;
            double rl = lossSum / seen;
            double ra = (double) correct / seen;
            listeners.forEach(l -> l.onBatch(this, epoch, batchNo - 1, batchesPerEpoch, rl, ra));
            progress = new Checkpoint.Progress(epoch, batch, step, lossSum, correct, seen, seconds, wait,
                    p.history(), p.bestValAcc(), p.bestValLoss(), p.bestEpoch());
            boolean last = !it.hasNext();
            if (!last && opts.checkpoint() != null && opts.checkpointEvery() > 0 && step % opts.checkpointEvery() == 0) {
                saveCheckpoint();
            }
            if (stopRequested) {
                if (opts.checkpoint() != null) {
                    saveCheckpoint();
                }
                throw new StoppedException("stopped at epoch " + (epoch + 1) + ", batch " + batch
                        + (opts.checkpoint() != null ? "; checkpoint written to " + opts.checkpoint() : ""));
            }
        }
        // evaluation
        double valAcc = Double.NaN;
        double valLoss = Double.NaN;
        if (data.validation() != null) {
            lastVal = evaluate(data.validation(), cachedVal);
            valAcc = lastVal.accuracy();
            valLoss = lastVal.loss();
        }
        double testAcc = Double.NaN;
        double testRate = Double.NaN;
        if (data.test() != null) {
            lastTest = evaluate(data.test(), cachedTest);
            testAcc = lastTest.accuracy();
            testRate = lastTest.examplesPerSec();
        }
        EpochMetrics m = new EpochMetrics(epoch + 1, seen == 0 ? Double.NaN : lossSum / seen,
                seen == 0 ? Double.NaN : (double) correct / seen, valAcc, valLoss, testAcc,
                seconds > 0 ? seen / seconds : 0, testRate, seconds, wait, recipe.lr() * scheduleFactor(Math.max(0, step - 1)));
        List<EpochMetrics> history = new ArrayList<>(progress.history());
        history.add(m);
        double bestAcc = progress.bestValAcc();
        double bestLoss = progress.bestValLoss();
        int bestEpoch = progress.bestEpoch();
        if (data.validation() != null && (valAcc > bestAcc || (valAcc == bestAcc && valLoss < bestLoss))) {
            bestAcc = valAcc;
            bestLoss = valLoss;
            bestEpoch = epoch;
            best = net.stateDict();
        }
        progress = new Checkpoint.Progress(epoch + 1, 0, step, 0, 0, 0, 0, 0, history, bestAcc, bestLoss, bestEpoch);
        listeners.forEach(l -> l.onEpoch(this, m));
        if (opts.checkpoint() != null) {
            saveCheckpoint();
        }
    }

    /** One optimizer step; returns {summed loss, correct predictions}. */
    private float[] step(ParameterStore ps, BatchData b, int epoch, int batch, double factor) {
        try (NDManager bm = net.manager().newSubManager()) {
            Torch.seed(recipe.seed() * 1_000_003L + epoch * 10_007L + batch); // dropout masks replay on resume
            NDArray x = bm.create(FloatBuffer.wrap(b.data(), 0, b.size() * b.width()), b.shape());
            NDArray y = bm.create(b.labels()).toType(DataType.INT64, false);
            float lossSum;
            float correct;
            try (GradientCollector gc = Torch.engine().newGradientCollector()) {
                NDList in = new NDList(x);
                NDArray logits = (b.features() ? net.headForward(ps, in, true) : net.forward(ps, in, true)).singletonOrThrow();
                NDArray perExample = crossEntropy(logits, y);
                NDArray total = recipe.lossReduction() == Recipe.Reduction.SUM ? perExample.sum() : perExample.mean();
                gc.backward(total);
                lossSum = perExample.sum().getFloat();
                correct = logits.argMax(1).eq(y).sum().toType(DataType.FLOAT32, false).getFloat();
            }
            if (!Float.isFinite(lossSum)) {
                return new float[] {lossSum, 0};
            }
            double lr = recipe.lr() * factor;
            double headLr = lr * recipe.headLrMult();
            Map<String, Parameter> trainable = net.trainableParameters();
            sgd.step(trainable, name -> headNames.contains(name) ? headLr : lr, 1f);
            return new float[] {lossSum, correct};
        } catch (EngineException e) {
            throw explainEngineFailure(e);
        }
    }

    static RuntimeException explainEngineFailure(RuntimeException e) {
        String msg = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        if (msg.contains("out of memory") || msg.contains("can't allocate") || msg.contains("cannot allocate")) {
            return new IllegalStateException("the engine ran out of memory; lower --batch-size (e.g. half of it) "
                    + "or the image size", e);
        }
        return e;
    }

    /** Per-example cross-entropy: -log softmax(logits)[label]. */
    static NDArray crossEntropy(NDArray logits, NDArray labels) {
        NDArray logp = logits.logSoftmax(1);
        return logp.mul(labels.oneHot((int) logits.getShape().get(1))).sum(new int[] {1}).neg();
    }

    double scheduleFactor(long step) {
        double f = 1;
        if (recipe.warmupSteps() > 0 && step < recipe.warmupSteps()) {
            f = (step + 1) / (double) recipe.warmupSteps();
        }
        if (recipe.schedule() == Recipe.Schedule.COSINE && totalSteps > 0) {
            f *= 0.5 * (1 + Math.cos(Math.PI * Math.min(step, totalSteps) / totalSteps));
        }
        return f;
    }

    /** A batch either of images or of cached body features. */
    private record BatchData(int size, float[] data, int[] labels, Shape shape, int width, boolean features) {
    }

    private Iterator<BatchData> batches(Loader train, int epoch, int fromBatch, int floats) {
        Preprocessing pre = data.preprocessing();
        if (cachedTrain != null) {
            int[] order = train.orderOf(cachedTrain.size(), epoch);
            int bs = recipe.batchSize();
            int d = net.featureDim();
            return new Iterator<>() {
                int b = fromBatch;

                @Override
                public boolean hasNext() {
                    return b * bs < order.length;
                }

                @Override
                public BatchData next() {
                    int start = b++ * bs;
                    int n = Math.min(bs, order.length - start);
                    float[] x = new float[n * d];
                    int[] y = new int[n];
                    for (int i = 0; i < n; i++) {
                        System.arraycopy(cachedTrain.features(), order[start + i] * d, x, i * d, d);
                        y[i] = cachedTrain.labels()[order[start + i]];
                    }
                    return new BatchData(n, x, y, new Shape(n, d), d, true);
                }
            };
        }
        Iterator<Loader.Batch> it = train.epoch(epoch, fromBatch);
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public BatchData next() {
                Loader.Batch b = it.next();
                return new BatchData(b.size(), b.data(), b.labels(), new Shape(b.size(), 3, pre.crop(), pre.crop()), floats, false);
            }
        };
    }

    /** Predictions on a folder in evaluation mode (from cached features when available). */
    public Evaluation evaluate(ImageFolder folder, FeatureSet cached) {
        if (cached != null) {
            return Evaluator.onFeatures(net, cached);
        }
        return Evaluator.evaluate(net, folder, data.preprocessing(), opts, bad);
    }

    /**
     * Writes the checkpoint unless the weights have gone non-finite (then the previous, good one stays and the run
     * stops). A failed write is reported and training goes on: the previous checkpoint is intact.
     */
    private void saveCheckpoint() {
        StateDict params = net.stateDict();
        for (var e : params.tensors().entrySet()) {
            if (e.getValue().countNonFinite() > 0) {
                throw new DivergedException("parameter " + e.getKey() + " became NaN/Inf at epoch " + (progress.epoch() + 1)
                        + ": stopping. Try a smaller --lr; the last good checkpoint " + opts.checkpoint() + " was kept (resume with --resume)");
            }
        }
        try {
            Checkpoint.save(opts.checkpoint(), progress, params, sgd.state(), best, recipe);
        } catch (IOException e) {
            opts.log().accept("warning: " + e.getMessage());
        }
    }

    /** Parameters and buffers of the body, to prove that a frozen body did not move. */
    public static Map<String, TensorData> snapshotBody(Network net) {
        StateDict sd = net.stateDict();
        Map<String, TensorData> out = new java.util.LinkedHashMap<>();
        for (String k : net.bodyParameters().keySet()) {
            out.put(k, sd.get(k));
        }
        return out;
    }
}
