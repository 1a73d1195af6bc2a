package dev.graft.train;

/**
 * The learning-rate factor at each optimizer step, a pure function of the step: linear warm-up, then constant
 * or cosine decay to zero over all steps.
 */
public record LrSchedule(Recipe.Schedule shape, int warmupSteps, long totalSteps) {

    public static LrSchedule of(Recipe r, long totalSteps) {
        return new LrSchedule(r.schedule(), r.warmupSteps(), totalSteps);
    }

    public double factor(long step) {
        double f = 1;
        if (warmupSteps > 0 && step < warmupSteps) {
            f = (step + 1) / (double) warmupSteps;
        }
        if (shape == Recipe.Schedule.COSINE && totalSteps > 0) {
            f *= 0.5 * (1 + Math.cos(Math.PI * Math.min(step, totalSteps) / totalSteps));
        }
        return f;
    }
}
