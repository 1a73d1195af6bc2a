package dev.graft.train;

import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import dev.graft.model.Network;
import dev.graft.model.nn.Torch;
import dev.graft.weights.StateDict;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * The book's {@code train_ch13} loop and nothing else: for each batch, forward, loss, backward, one grouped SGD
 * update at the schedule's rate. Evaluation, keeping the best epoch, checkpoints, divergence and progress are
 * {@link TrainingListener}s.
 */
public final class Trainer {
    private final Network net;
    private final ParamGroups groups;
    private final LrSchedule schedule;
    private final GroupedSgd sgd;
    private final Loss loss;
    private final BatchSource data;
    private final int epochs;
    private final long seed;
    private final List<TrainingListener> listeners;
    private final StopSignal stop;
    private final State state = new State();

    /** Where training stands; listeners read and extend it, checkpoints save it. */
    public static final class State {
        public int epoch;
        public int batch;
        public long step;
        public double lossSum;
        public long correct;
        public long seen;
        public double seconds;
        public double waitSeconds;
        public final List<EpochMetrics> history = new ArrayList<>();
        /** The best epoch on validation so far: its number (0: the weights before training; -1: none), accuracy, loss, weights. */
        public int bestEpoch = -1;
        public double bestValAcc = -1;
        public double bestValLoss = Double.POSITIVE_INFINITY;
        public StateDict best;
        /** Set by a listener (early stopping): no further epoch starts. */
        public boolean stopEarly;

        public EpochMetrics last() {
            return history.isEmpty() ? null : history.get(history.size() - 1);
        }
    }

    public Trainer(Network net, ParamGroups groups, LrSchedule schedule, GroupedSgd sgd, Loss loss, BatchSource data,
                   int epochs, long seed, List<TrainingListener> listeners, StopSignal stop) {
        this.net = net;
        this.groups = groups;
        this.schedule = schedule;
        this.sgd = sgd;
        this.loss = loss;
        this.data = data;
        this.epochs = epochs;
        this.seed = seed;
        this.listeners = List.copyOf(listeners);
        this.stop = stop;
    }

    /** Runs the epochs that are left. */
    public void fit() {
        listeners.forEach(l -> l.onStart(this));
        while (state.epoch < epochs && !state.stopEarly) {
            for (Iterator<BatchSource.Batch> it = data.epoch(state.epoch, state.batch); it.hasNext(); ) {
                long t0 = System.nanoTime();
                BatchSource.Batch b = it.next();
                state.waitSeconds += (System.nanoTime() - t0) / 1e9;
                float[] lossAndCorrect = b.size() == 0 ? new float[2] : step(b);
                if (b.size() > 0) {
                    state.lossSum += lossAndCorrect[0];
                    state.correct += (long) lossAndCorrect[1];
                    state.seen += b.size();
                    state.step++;
                }
                state.batch++;
                state.seconds += (System.nanoTime() - t0) / 1e9;
                listeners.forEach(l -> l.onBatch(this, b, lossAndCorrect[0]));
                if (stop.requested()) {
                    listeners.forEach(l -> l.onStop(this));
                    throw new StoppedException("stopped at epoch " + (state.epoch + 1) + ", batch " + state.batch);
                }
            }
            state.history.add(new EpochMetrics(state.epoch + 1, state.seen == 0 ? Double.NaN : state.lossSum / state.seen,
                    state.seen == 0 ? Double.NaN : (double) state.correct / state.seen, Double.NaN, Double.NaN, Double.NaN,
                    state.seconds > 0 ? state.seen / state.seconds : 0, Double.NaN, state.seconds, state.waitSeconds,
                    groups.groups().get(0).lr() * schedule.factor(Math.max(0, state.step - 1))));
            state.epoch++;
            state.batch = 0;
            state.lossSum = 0;
            state.correct = 0;
            state.seen = 0;
            state.seconds = 0;
            state.waitSeconds = 0;
            listeners.forEach(l -> l.onEpoch(this));
        }
        listeners.forEach(l -> l.onEnd(this));
    }

    /** One optimizer step; returns {summed loss, correct predictions}. A non-finite loss updates nothing. */
    float[] step(BatchSource.Batch b) {
        try (NDManager bm = net.manager().newSubManager()) {
            Torch.seed(seed * 1_000_003L + state.epoch * 10_007L + state.batch); // dropout masks replay on resume
            NDArray x = bm.create(FloatBuffer.wrap(b.data(), 0, (int) b.shape().size()), b.shape());
            NDArray y = bm.create(b.labels()).toType(DataType.INT64, false);
            int classes = net.numClasses();
            NDArray targets = b.targets() != null ? bm.create(b.targets(), new ai.djl.ndarray.types.Shape(b.size(), classes))
                    : y.oneHot(classes);
            float lossSum;
            float correct;
            try (GradientCollector gc = Torch.engine().newGradientCollector()) {
                NDArray logits = b.features() ? net.head(x, true) : net.apply(x, true);
                NDArray[] perExample = loss.perExample(logits, targets);
                gc.backward(loss.reduce(perExample));
                lossSum = perExample[0].sum().getFloat();
                correct = logits.argMax(1).eq(y).sum().toType(DataType.FLOAT32, false).getFloat();
            }
            if (Float.isFinite(lossSum)) {
                sgd.step(groups, schedule.factor(state.step), schedule.momentum(state.step));
            }
            return new float[] {lossSum, correct};
        } catch (EngineException e) {
            throw explainEngineFailure(e);
        }
    }

    /** Continues from a checkpoint instead of the start. */
    public void resume(Checkpoint.State c) {
        net.loadAll(c.params());
        sgd.load(c.momentum(), net.namedParameters());
        Checkpoint.Progress p = c.progress();
        state.epoch = p.epoch();
        state.batch = p.batch();
        state.step = p.step();
        state.lossSum = p.lossSum();
        state.correct = p.correct();
        state.seen = p.seen();
        state.seconds = p.seconds();
        state.waitSeconds = p.waitSeconds();
        state.history.addAll(p.history());
        state.bestEpoch = p.bestEpoch();
        state.bestValAcc = p.bestValAcc();
        state.bestValLoss = p.bestValLoss();
        state.stopEarly = p.stopEarly();
        state.best = c.best();
    }

    static RuntimeException explainEngineFailure(RuntimeException e) {
        String msg = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        if (msg.contains("out of memory") || msg.contains("can't allocate") || msg.contains("cannot allocate")) {
            return new IllegalStateException("the engine ran out of memory; lower --batch-size (e.g. half of it) "
                    + "or the image size", e);
        }
        return e;
    }

    public Network network() {
        return net;
    }

    public State state() {
        return state;
    }

    public GroupedSgd optimizer() {
        return sgd;
    }

    public BatchSource data() {
        return data;
    }

    public int epochs() {
        return epochs;
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
}
