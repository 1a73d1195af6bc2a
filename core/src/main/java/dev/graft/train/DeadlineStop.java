package dev.graft.train;

import java.util.Locale;
import java.util.function.Consumer;

/** Ends a loop at the epoch that would pass the deadline or the loop's own budget, judged from the epochs so far. */
final class DeadlineStop implements TrainingListener {
    private final Deadline deadline;
    private final double budget;
    private final Consumer<String> log;
    private final double start;
    private int epochsHere;
    /** Whether it ended the loop because of the run's time limit (not fast's own budget). */
    boolean fired;

    DeadlineStop(Deadline deadline, double budgetSeconds, Consumer<String> log) {
        this.deadline = deadline;
        this.budget = budgetSeconds;
        this.log = log;
        this.start = deadline.elapsed();
    }

    @Override
    public int order() {
        return ORDER_TRACK + 20;
    }

    @Override
    public void onEpoch(Trainer t) {
        epochsHere++;
        double spent = deadline.elapsed() - start;
        double perEpoch = spent / epochsHere;
        boolean overLimit = deadline.limited() && deadline.remaining() < perEpoch;
        boolean overBudget = spent + perEpoch > budget;
        if ((overLimit || overBudget) && t.progress().epoch < t.epochs() && !t.progress().stopEarly) {
            t.progress().stopEarly = true;
            fired = overLimit;
            log.accept(String.format(Locale.ROOT, "stopping this candidate after epoch %d: another epoch (about %.0f s) would pass the %s",
                    t.progress().epoch, perEpoch, overLimit ? "time limit" : "fine-tuning budget"));
        }
    }
}
