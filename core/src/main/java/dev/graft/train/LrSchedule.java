package dev.graft.train;

/** The learning-rate factor (times each group's rate) and the momentum at each optimizer step: a pure function of the step. */
public interface LrSchedule {
    double factor(long step);

    /** This step's momentum; NaN keeps the optimizer's own. */
    default double momentum(long step) {
        return Double.NaN;
    }

    /** The recipe's schedule over {@code totalSteps} steps. */
    static LrSchedule of(Recipe r, long totalSteps) {
        return new RecipeSchedule(r.schedule().shape(), r.schedule().warmupSteps(), totalSteps);
    }
}
