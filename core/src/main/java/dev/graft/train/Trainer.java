package dev.graft.train;

import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.graft.model.Network;
import dev.graft.model.nn.Torch;

import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The book's {@code train_ch13} loop and nothing else: for each batch, forward, loss, backward, one optimizer step
 * at the schedule's rate. Evaluation, the best epoch, early stopping, checkpoints, divergence and progress are
 * {@link TrainingListener}s, called in their declared order.
 */
public final class Trainer {
    private final TrainingPlan plan;
    private final List<TrainingListener> listeners;
    private final StopSignal stop;
    private final Progress progress = new Progress();

    public Trainer(TrainingPlan plan, List<TrainingListener> listeners, StopSignal stop) {
        this.plan = plan;
        this.listeners = listeners.stream().sorted(Comparator.comparingInt(TrainingListener::order)).toList();
        this.stop = stop;
    }

    /** Runs the epochs that are left. */
    public void fit() {
        fit(plan.epochs());
    }

    /** Runs epochs up to {@code until} (at most the plan's) or an early stop; {@code onEnd} once the plan is done. */
    public void fit(int until) {
        listeners.forEach(l -> l.onStart(this));
        while (progress.epoch < Math.min(until, plan.epochs()) && !progress.stopEarly) {
            for (Iterator<BatchSource.Batch> it = plan.data().epoch(progress.epoch, progress.batch); it.hasNext(); ) {
                long t0 = System.nanoTime();
                BatchSource.Batch b = it.next();
                progress.waitSeconds += (System.nanoTime() - t0) / 1e9;
                float[] lossAndCorrect = b.size() == 0 ? new float[2] : step(b);
                if (b.size() > 0) {
                    progress.lossSum += lossAndCorrect[0];
                    progress.correct += (long) lossAndCorrect[1];
                    progress.seen += b.size();
                    progress.step++;
                }
                progress.batch++;
                progress.seconds += (System.nanoTime() - t0) / 1e9;
                listeners.forEach(l -> l.onBatch(this, b, lossAndCorrect[0]));
                if (stop.requested()) {
                    listeners.forEach(l -> l.onStop(this));
                    throw new StoppedException("stopped at epoch " + (progress.epoch + 1) + ", batch " + progress.batch);
                }
            }
            progress.endEpoch(plan.groups().baseLr() * plan.schedule().factor(Math.max(0, progress.step - 1)));
            listeners.forEach(l -> l.onEpoch(this));
        }
        if (finished()) {
            listeners.forEach(l -> l.onEnd(this));
        }
    }

    /** Whether the plan is done: every epoch run, or stopped early. */
    public boolean finished() {
        return progress.epoch >= plan.epochs() || progress.stopEarly;
    }

    /** One optimizer step; returns {summed loss, correct predictions}. A non-finite loss updates nothing. */
    float[] step(BatchSource.Batch b) {
        Network net = plan.net();
        try (NDManager bm = net.manager().newSubManager()) {
            Torch.seed(plan.seed() * 1_000_003L + progress.epoch * 10_007L + progress.batch); // dropout masks replay on resume
            NDArray x = Torch.floats(bm, b.data(), 0, b.shape());
            NDArray y = bm.create(b.labels()).toType(DataType.INT64, false);
            NDArray targets = b.targets() != null ? bm.create(b.targets(), new Shape(b.size(), net.numClasses())) : y.oneHot(net.numClasses());
            float lossSum;
            float correct;
            try (GradientCollector gc = Torch.engine().newGradientCollector()) {
                NDArray logits = b.features() ? net.head(x, true) : net.apply(x, true);
                NDArray[] perExample = plan.loss().perExample(logits, targets);
                gc.backward(plan.loss().reduce(perExample));
                lossSum = perExample[0].sum().getFloat();
                correct = logits.argMax(1).eq(y).sum().toType(DataType.FLOAT32, false).getFloat();
            }
            if (Float.isFinite(lossSum)) {
                plan.optimizer().step(plan.groups(), plan.schedule().factor(progress.step), plan.schedule().momentum(progress.step));
            }
            return new float[] {lossSum, correct};
        } catch (EngineException e) {
            throw StoppedException.explainEngineFailure(e);
        }
    }

    /** Everything a resume needs, as a dict of state dicts: progress, parameters, the optimizer's and each stateful listener's state. */
    public Checkpoint.Snapshot snapshot() {
        Map<String, Checkpoint.Part> parts = new LinkedHashMap<>();
        listeners.stream().filter(l -> l instanceof TrainingListener.Stateful).map(l -> (TrainingListener.Stateful) l)
                .forEach(s -> parts.put(s.stateName(), s.save()));
        return new Checkpoint.Snapshot(progress.copy(), plan.net().stateDict(), plan.optimizer().name(), plan.optimizer().state(), parts);
    }

    /** Continues from a snapshot instead of the start. */
    public void restore(Checkpoint.Snapshot s) {
        if (!s.optimizer().equals(plan.optimizer().name())) {
            throw new IllegalArgumentException("the checkpoint was trained with " + s.optimizer() + ", this run uses " + plan.optimizer().name());
        }
        plan.net().loadAll(s.params());
        plan.optimizer().load(s.optimizerState(), plan.net().namedParameters());
        progress.copyFrom(s.progress());
        listeners.stream().filter(l -> l instanceof TrainingListener.Stateful st && s.listeners().containsKey(st.stateName()))
                .forEach(l -> ((TrainingListener.Stateful) l).restore(s.listeners().get(((TrainingListener.Stateful) l).stateName())));
    }

    public Network network() {
        return plan.net();
    }

    public Progress progress() {
        return progress;
    }

    public BatchSource data() {
        return plan.data();
    }

    public int epochs() {
        return plan.epochs();
    }
}
