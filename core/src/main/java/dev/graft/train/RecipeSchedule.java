package dev.graft.train;

/**
 * The learning-rate factor (and, for one-cycle, the momentum) at each optimizer step, a pure function of the
 * step: linear warm-up, then constant, cosine decay to zero, or fastai's fit_one_cycle (div 25, pct_start 0.25,
 * final div 1e5, cosine annealing; momentum 0.95 -> 0.85 -> 0.95).
 */
public record RecipeSchedule(Recipe.Shape shape, int warmupSteps, long totalSteps) implements LrSchedule {
    static final double ONE_CYCLE_DIV = 25;
    static final double ONE_CYCLE_FINAL_DIV = 1e5;
    static final double ONE_CYCLE_PCT_START = 0.25;
    static final double[] ONE_CYCLE_MOMENTUM = {0.95, 0.85, 0.95};

    @Override
    public double factor(long step) {
        double f = 1;
        if (warmupSteps > 0 && step < warmupSteps) {
            f = (step + 1) / (double) warmupSteps;
        }
        if (shape == Recipe.Shape.COSINE && totalSteps > 0) {
            f *= 0.5 * (1 + Math.cos(Math.PI * Math.min(step, totalSteps) / totalSteps));
        } else if (shape == Recipe.Shape.ONE_CYCLE && totalSteps > 0) {
            f *= combinedCos(position(step), 1 / ONE_CYCLE_DIV, 1, 1 / ONE_CYCLE_FINAL_DIV);
        }
        return f;
    }

    /** The momentum one-cycle prescribes at this step; NaN (the recipe's own) for the other schedules. */
    @Override
    public double momentum(long step) {
        if (shape != Recipe.Shape.ONE_CYCLE || totalSteps <= 0) {
            return Double.NaN;
        }
        return combinedCos(position(step), ONE_CYCLE_MOMENTUM[0], ONE_CYCLE_MOMENTUM[1], ONE_CYCLE_MOMENTUM[2]);
    }

    private double position(long step) {
        return Math.min(step, totalSteps) / (double) totalSteps;
    }

    /** fastai's combined_cos: cosine from start to middle over the first pct_start, then from middle to end. */
    static double combinedCos(double pos, double start, double middle, double end) {
        if (pos < ONE_CYCLE_PCT_START) {
            return cos(pos / ONE_CYCLE_PCT_START, start, middle);
        }
        return cos((pos - ONE_CYCLE_PCT_START) / (1 - ONE_CYCLE_PCT_START), middle, end);
    }

    /** fastai's SchedCos: start + (1 + cos(pi (1 - pos))) (end - start) / 2. */
    static double cos(double pos, double start, double end) {
        return start + (1 + Math.cos(Math.PI * (1 - pos))) * (end - start) / 2;
    }
}
