package dev.graft.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.data.DataSplits;
import dev.graft.model.Backbone;
import dev.graft.model.Network;
import dev.graft.util.Json;
import dev.graft.weights.StateDict;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * graft's default recipe: a budgeted search over real candidates, decided on the training images held out for
 * validation, never on the test set, in the spirit of AutoGluon's presets and time limit.
 *
 * <ol>
 * <li>The linear probe (fitted by the caller on the other training images) is the first candidate.</li>
 * <li>Fine-tunes from the probe head (LP-FT) with the family's optimizer race against each other by successive
 * halving: learning rates on a log grid around the family's rate, and BatchNorm training its statistics or keeping
 * the source's, each over the same cosine schedule and the same batches. At a rung (epoch 3 of 10 for medium) the
 * candidates are ranked by their last two epochs on validation and only the best go on: the race is the early
 * stopping, on validation, of every candidate but the best. The survivor trains to the end of its schedule, where
 * the learning rate has annealed; its final weights are the candidate (the argmax epoch of a noisy curve on a few
 * dozen images chases noise, and a retrain stopped there would stop before annealing).</li>
 * <li>The best fine-tune and the probe are compared image by image on validation ({@link ModelSelection}).</li>
 * <li>The winner gets the images it never saw: the probe is refitted on every training image; a winning fine-tune
 * is trained again, from the source and the probe refitted on every image, on every image, over the same schedule
 * for as many epochs as it trained.</li>
 * </ol>
 * A time limit bounds the whole run: a candidate stops at the epoch that would pass it, the race ends, and the
 * retrain is skipped when it does not fit (the fine-tune trained on four fifths of the images is kept). Every
 * candidate, its validation figures and time, and the decision are reported. The search is checkpointed with all its
 * candidates, so a run stopped anywhere resumes where it was.
 */
final class RecipeSearch {
    static final String RETRAIN = "retrain";

    /** The result: the report and, when a fine-tune won, the final weights' epochs of training (for the history). */
    record Outcome(SearchReport report, List<EpochMetrics> history) {
    }

    /** A candidate as the race goes: its snapshot while suspended, its figures, its time. */
    private static final class Runner {
        final SearchPlan.Candidate c;
        String status = "pending";
        Checkpoint.Snapshot snapshot;
        List<EpochMetrics> history = List.of();
        double seconds;
        boolean finished;

        Runner(SearchPlan.Candidate c) {
            this.c = c;
        }

        int epochs() {
            return history.isEmpty() ? 0 : history.get(history.size() - 1).epoch();
        }

        /** The mean validation accuracy and loss of the last two trained epochs (0 and infinity before any). */
        double[] recent() {
            List<EpochMetrics> trained = history.stream().filter(m -> m.epoch() > 0 && !Double.isNaN(m.valAcc())).toList();
            if (trained.isEmpty()) {
                return new double[] {0, Double.POSITIVE_INFINITY};
            }
            List<EpochMetrics> tail = trained.subList(Math.max(0, trained.size() - 2), trained.size());
            return new double[] {tail.stream().mapToDouble(EpochMetrics::valAcc).average().orElse(0),
                tail.stream().mapToDouble(EpochMetrics::valLoss).average().orElse(Double.POSITIVE_INFINITY)};
        }

        /** The best validation epoch so far (accuracy, then loss) and its figures: {epoch, accuracy, loss}. */
        double[] best() {
            BestValidation b = new BestValidation();
            history.forEach(b::offer);
            return new double[] {b.epoch, b.accuracy, b.loss};
        }
    }

    private final Recipe base;
    private final Network net;
    private final DataSplits data;
    private final Training.Setup setup;
    private final SearchPlan.Plan plan;
    private final Deadline deadline;
    private final java.nio.file.Path checkpointFile;
    private final int checkpointEvery;
    private final JsonNode identity;
    private final List<TrainingListener> extra;
    private final Consumer<String> log;
    private final List<Runner> runners = new ArrayList<>();
    private StateDict start;
    private Checkpoint.Snapshot retrainSnapshot;
    private String stage = "race";
    private boolean timeRanOut;

    RecipeSearch(Recipe base, Network net, DataSplits data, Training.Setup setup, SearchPlan.Plan plan, Deadline deadline,
                 java.nio.file.Path checkpointFile, int checkpointEvery, JsonNode identity, List<TrainingListener> extra) {
        this.base = base;
        this.net = net;
        this.data = data;
        this.setup = setup;
        this.plan = plan;
        this.deadline = deadline;
        this.checkpointFile = checkpointFile;
        this.checkpointEvery = checkpointEvery;
        this.identity = identity;
        this.extra = extra;
        this.log = setup.log();
        plan.candidates().forEach(c -> runners.add(new Runner(c)));
    }

    /**
     * Runs the search from the network as it is (source body, probe head fitted on the training part), against
     * the probe's validation predictions; {@code resume} is a checkpoint's state of this search, or null.
     */
    Outcome run(Probe.Head probe, Evaluation probeValidation, Checkpoint.State resume, Backbone source) {
        double t0 = deadline.elapsed();
        start = net.stateDict();
        if (resume != null) {
            restore(resume);
        }
        log.accept("search (" + base.search().quality().label() + "): " + plan.candidates().size() + " fine-tune candidate(s) "
                + describe(plan) + ", against the probe on " + data.validation().size() + " validation images"
                + (deadline.limited() ? String.format(Locale.ROOT, "; time limit %.0f s", deadline.limitSeconds()) : ""));
        if (stage.equals("race")) {
            race();
        }
        // the winner: the best epoch of the candidates still racing at the end (the race's survivors)
        // (candidates dropped at a rung, and finished ones beaten by another finished one, no longer hold weights)
        Runner winner = runners.stream().filter(r -> r.snapshot != null && !r.history.isEmpty())
                .max(Comparator.<Runner>comparingDouble(r -> r.recent()[0]).thenComparingDouble(r -> -r.recent()[1])).orElse(null);
        List<SearchReport.Entry> entries = new ArrayList<>();
        entries.add(new SearchReport.Entry("probe", "linear probe (logistic regression on the source features)", "baseline",
                probeValidation.accuracy(), probeValidation.loss(), 0, 0, 0, List.of(probeValidation.accuracy())));
        ModelSelection.Decision d = null;
        if (winner != null) {
            winner.status = "best fine-tune";
            net.loadAll(winner.snapshot.params());
            Evaluation ftVal = Evaluator.evaluate(net, data.validation(), setup.pre(), setup.opts(), setup.bad());
            d = ModelSelection.decide(probeValidation, ftVal);
        }
        for (Runner r : runners) {
            double[] b = r.best();
            EpochMetrics end = r.history.isEmpty() ? null : r.history.get(r.history.size() - 1);
            entries.add(new SearchReport.Entry(r.c.id(), r.c.label(), r.status, end == null ? Double.NaN : end.valAcc(),
                    end == null ? Double.NaN : end.valLoss(), r.epochs(), (int) b[0], r.seconds,
                    r.history.stream().map(EpochMetrics::valAcc).toList()));
        }
        String decision = d == null ? "kept the probe: no fine-tune candidate trained (" + (timeRanOut ? "the time limit ran out" : "none planned") + ")"
                : d.why();
        log.accept(decision);
        boolean fineTuned = d != null && d.fineTuned();
        FeatureSet all = setup.features().allTraining();
        Probe.Head probeAll = Probe.refit(all, probe, net.numClasses());
        String retrain;
        List<EpochMetrics> history = new ArrayList<>();
        if (!fineTuned) {
            source.copyBody(net);
            net.setHead(probeAll.fit().weight(), probeAll.fit().bias());
            // its one "epoch", as --mode probe reports it
            double perImage = setup.features().secondsPerImage();
            history.add(new EpochMetrics(1, probeAll.fit().loss(), probeAll.trainAccuracy(), Double.NaN, Double.NaN, Double.NaN,
                    perImage > 0 ? 1 / perImage : Double.NaN, Double.NaN, 0, 0, Double.NaN));
            retrain = String.format(Locale.ROOT, "the probe refitted on all %d training images (lambda %.2g: the strength cross-validation "
                    + "chose on %d, for %d)", all.size(), probeAll.fit().lambda(), setup.features().train().size(), all.size());
        } else {
            int epochs = winner.epochs();
            history.addAll(winner.history);
            double need = winner.seconds / Math.max(1, winner.epochs()) * epochs * data.train().union(data.validation()).size()
                    / Math.max(1, data.train().size());
            if (!plan.retrain()) {
                retrain = "the fine-tune trained on " + data.train().size() + " images is the model (" + base.search().quality().label()
                        + " does not retrain)";
            } else if (deadline.limited() && need > deadline.remaining()) {
                retrain = String.format(Locale.ROOT, "not retrained on every image: the time limit leaves %.0f s, the retrain needs about %.0f s; "
                        + "the fine-tune trained on %d images is the model", deadline.remaining(), need, data.train().size());
            } else {
                stage = RETRAIN;
                history = retrain(winner.c, epochs, probeAll, source);
                retrain = String.format(Locale.ROOT, "%s trained again from the source on all %d training images for its best %d epoch(s) "
                        + "of %d, from the probe refitted on them", winner.c.label(), setup.features().allTrainingFolder().size(), epochs,
                        winner.c.recipe().schedule().epochs());
                entries.add(new SearchReport.Entry(RETRAIN, winner.c.label() + " on every training image", "final model", Double.NaN, Double.NaN,
                        epochs, epochs, history.stream().mapToDouble(EpochMetrics::seconds).sum(), List.of()));
            }
        }
        log.accept(retrain);
        stage = "done";
        SearchReport report = new SearchReport(base.search().quality().label(), deadline.limitSeconds(), entries, decision, fineTuned, retrain,
                timeRanOut, deadline.elapsed() - t0);
        return new Outcome(report, history);
    }

    private static String describe(SearchPlan.Plan p) {
        List<String> labels = p.candidates().stream().map(SearchPlan.Candidate::label).toList();
        return "(" + String.join("; ", labels) + "), cosine over " + p.horizon() + " epochs"
                + (p.rungs().length > 0 ? ", the best " + p.keep()[0] + " going on after epoch " + p.rungs()[0] : "")
                + (p.rungs().length > 1 ? ", then " + p.keep()[1] + " after epoch " + p.rungs()[1] : "");
    }

    /** Successive halving: every candidate to the first rung, the best on to the next, the last to the end of its schedule. */
    private void race() {
        List<Runner> alive = new ArrayList<>(runners.stream().filter(r -> !r.status.startsWith("stopped")).toList());
        for (int rung = 0; rung <= plan.rungs().length; rung++) {
            int until = rung < plan.rungs().length ? plan.rungs()[rung] : plan.horizon();
            for (Runner r : alive) {
                if (r.finished || r.epochs() >= until) {
                    continue;
                }
                if (outOfTime()) {
                    timeRanOut = true;
                    r.status = r.history.isEmpty() ? "not started: out of time" : r.status;
                    continue;
                }
                train(r, until);
                if (r.finished) {
                    keepBestFinished();
                }
            }
            if (timeRanOut || rung >= plan.rungs().length) {
                break;
            }
            // at a rung every candidate is at the same point of the same schedule: rank by where they are now (the mean
            // of the last two epochs' validation figures), not by an early epoch that was merely still close to the probe
            alive.sort(Comparator.<Runner>comparingDouble(r -> -r.recent()[0]).thenComparingDouble(r -> r.recent()[1]));
            for (int i = plan.keep()[rung]; i < alive.size(); i++) {
                alive.get(i).status = "stopped after epoch " + until;
                alive.get(i).snapshot = null;
            }
            alive = new ArrayList<>(alive.subList(0, Math.min(plan.keep()[rung], alive.size())));
        }
    }

    /**
     * Of the candidates that finished, only the best (by their last two epochs) keeps its weights, and only its
     * parameters: nothing trains it again, and a big network's several copies would not fit in memory (ViT-B: 1 GB
     * per candidate with its optimizer state).
     */
    private void keepBestFinished() {
        Comparator<Runner> byRecent = Comparator.<Runner>comparingDouble(r -> r.recent()[0]).thenComparingDouble(r -> -r.recent()[1]);
        List<Runner> done = runners.stream().filter(r -> r.finished && r.snapshot != null).toList();
        Runner best = done.stream().max(byRecent).orElse(null);
        for (Runner r : done) {
            if (r != best) {
                r.snapshot = null;
            } else if (!r.snapshot.optimizerState().tensors().isEmpty() || !r.snapshot.listeners().isEmpty()) {
                r.snapshot = new Checkpoint.Snapshot(r.snapshot.progress(), r.snapshot.params(), r.snapshot.optimizer(),
                        new dev.graft.weights.StateDict("finished"), Map.of());
            }
        }
    }

    /** No time for another epoch: the limit or fast's budget would pass during it (judged from the epochs so far). */
    private boolean outOfTime() {
        double seconds = runners.stream().mapToDouble(r -> r.seconds).sum();
        int epochs = runners.stream().mapToInt(Runner::epochs).sum();
        double perEpoch = epochs == 0 ? 0 : seconds / epochs;
        return deadline.expired() || (deadline.limited() && deadline.remaining() < perEpoch)
                || (plan.fineTuneSeconds() > 0 && seconds + perEpoch > plan.fineTuneSeconds());
    }

    /** Trains one candidate from where it stopped (or from the start) up to epoch {@code until}. */
    private void train(Runner r, int until) {
        double t0 = deadline.elapsed();
        Training.Folders f = new Training.Folders(data.train(), data.validation(), null);
        List<TrainingListener> listeners = new ArrayList<>(extra);
        DeadlineStop clock = new DeadlineStop(deadline, plan.fineTuneSeconds() > 0
                ? Math.max(0, plan.fineTuneSeconds() - runners.stream().mapToDouble(x -> x.seconds).sum()) : Double.POSITIVE_INFINITY, log);
        listeners.add(clock);
        Checkpointing.Target target = checkpointFile == null ? null
                : new Checkpointing.Target(checkpointFile, checkpointEvery, snap -> state(r.c.id(), snap));
        try (Training t = Training.of(r.c.recipe(), net, f, setup, target, listeners)) {
            if (r.snapshot != null) {
                t.trainer.restore(r.snapshot);
            } else {
                net.loadAll(start);
            }
            log.accept(String.format(Locale.ROOT, "candidate %s: epochs %d to %d", r.c.label(), r.epochs() + 1, until));
            r.status = "training";
            try {
                t.trainer.fit(until);
            } finally {
                r.seconds += deadline.elapsed() - t0;
            }
            r.history = List.copyOf(t.trainer.progress().history);
            r.finished = t.trainer.finished();
            timeRanOut |= clock.fired;
            r.status = r.finished ? "finished after " + r.epochs() + " epoch(s)" : "suspended after epoch " + r.epochs();
            r.snapshot = t.trainer.snapshot();
        }
    }

    /** The winner again, from the source body and the probe refitted on every image, on every image for {@code epochs} epochs. */
    List<EpochMetrics> retrain(SearchPlan.Candidate winner, int epochs, Probe.Head probeAll, Backbone source) {
        Recipe r = winner.recipe().with(new Recipe.Selection(0, 0, false));
        Training.Folders f = new Training.Folders(setup.features().allTrainingFolder(), null, null);
        List<TrainingListener> listeners = new ArrayList<>(extra);
        listeners.add(new StopAfter(epochs));
        Checkpointing.Target target = checkpointFile == null ? null
                : new Checkpointing.Target(checkpointFile, checkpointEvery, snap -> state(RETRAIN, snap));
        log.accept(String.format(Locale.ROOT, "retraining %s on all %d training images for %d epoch(s)", winner.label(), f.train().size(), epochs));
        try (Training t = Training.of(r, net, f, setup, target, listeners)) {
            if (retrainSnapshot != null) {
                t.trainer.restore(retrainSnapshot);
            } else {
                source.copyBody(net);
                net.setHead(probeAll.fit().weight(), probeAll.fit().bias());
            }
            t.trainer.fit();
            return List.copyOf(t.trainer.progress().history);
        }
    }

    /** The checkpoint of the whole search while {@code liveId}'s loop runs: every suspended candidate, the live one, and the race so far. */
    private Checkpoint.State state(String liveId, Checkpoint.Snapshot live) {
        Map<String, Checkpoint.Snapshot> snaps = new LinkedHashMap<>();
        for (Runner r : runners) {
            if (r.snapshot != null && !r.c.id().equals(liveId)) {
                snaps.put(r.c.id(), r.snapshot);
            }
        }
        snaps.put(liveId, live);
        ObjectNode s = Json.object();
        s.put("stage", liveId.equals(RETRAIN) ? RETRAIN : "race");
        s.put("time_ran_out", timeRanOut);
        ArrayNode cs = s.putArray("candidates");
        for (Runner r : runners) {
            ObjectNode c = cs.addObject();
            c.put("id", r.c.id());
            c.put("status", r.c.id().equals(liveId) ? "training" : r.status);
            c.put("seconds", r.seconds);
            c.put("finished", r.finished);
            c.set("history", Json.tree(r.history));
        }
        return new Checkpoint.State(snaps, s, identity);
    }

    private void restore(Checkpoint.State st) {
        JsonNode s = st.search();
        stage = s.path("stage").asText("race");
        timeRanOut = s.path("time_ran_out").asBoolean();
        for (JsonNode c : s.path("candidates")) {
            Runner r = runners.stream().filter(x -> x.c.id().equals(c.path("id").asText())).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("the checkpoint's search has a candidate this run does not plan: "
                            + c.path("id").asText() + "; start the run again, or resume with the settings it was started with"));
            r.status = c.path("status").asText();
            r.seconds = c.path("seconds").asDouble();
            r.finished = c.path("finished").asBoolean();
            r.history = List.of(Json.MAPPER.convertValue(c.path("history"), EpochMetrics[].class));
            r.snapshot = st.snapshots().get(r.c.id());
            if (r.snapshot != null && r.status.equals("training")) {
                r.history = List.copyOf(r.snapshot.progress().history);
            }
        }
        retrainSnapshot = st.snapshots().get(RETRAIN);
        log.accept("resuming the search from its checkpoint: " + runners.stream().map(r -> r.c.label() + " " + r.status).toList()
                + (retrainSnapshot != null ? "; the retrain at epoch " + (retrainSnapshot.progress().epoch + 1) : ""));
    }
}
