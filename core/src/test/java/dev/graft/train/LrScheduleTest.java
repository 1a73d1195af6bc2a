package dev.graft.train;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The learning-rate factor is a pure function of the step. */
class LrScheduleTest {

    @Test
    void constantIsOne() {
        LrSchedule s = new RecipeSchedule(Recipe.Shape.CONSTANT, 0, 100);
        assertEquals(1.0, s.factor(0));
        assertEquals(1.0, s.factor(99));
    }

    @Test
    void warmupRisesLinearlyThenCosineFallsToZero() {
        LrSchedule s = new RecipeSchedule(Recipe.Shape.COSINE, 4, 100);
        assertEquals(0.25 * 0.5 * (1 + Math.cos(0)), s.factor(0), 1e-12);
        assertEquals(0.75 * 0.5 * (1 + Math.cos(Math.PI * 2 / 100)), s.factor(2), 1e-12);
        assertEquals(0.5, s.factor(50), 1e-12);
        assertEquals(0.5 * (1 + Math.cos(Math.PI * 0.75)), s.factor(75), 1e-12);
        assertEquals(0.0, s.factor(100), 1e-12);
        assertEquals(0.0, s.factor(150), 1e-12, "past the end it stays at zero");
        // pure: the same step gives the same factor whatever was asked before (resume replays it)
        assertEquals(s.factor(37), new RecipeSchedule(Recipe.Shape.COSINE, 4, 100).factor(37));
    }

    @Test
    void oneCycleFollowsFastaiAtKnownSteps() {
        // fastai's fit_one_cycle: combined_cos(0.25, lr_max / 25, lr_max, lr_max / 1e5); momentum 0.95 -> 0.85 -> 0.95
        LrSchedule s = new RecipeSchedule(Recipe.Shape.ONE_CYCLE, 0, 200);
        assertEquals(1 / 25.0, s.factor(0), 1e-12);
        assertEquals(0.95, s.momentum(0), 1e-12);
        assertEquals(1 / 25.0 + 0.5 * (1 - 1 / 25.0), s.factor(25), 1e-12, "halfway up");
        assertEquals(0.90, s.momentum(25), 1e-12);
        assertEquals(1.0, s.factor(50), 1e-12, "the peak at pct_start 0.25");
        assertEquals(0.85, s.momentum(50), 1e-12);
        assertEquals(1 - 0.5 * (1 - 1e-5), s.factor(125), 1e-12, "halfway down");
        assertEquals(0.90, s.momentum(125), 1e-12);
        assertEquals(1e-5, s.factor(200), 1e-15);
        assertEquals(0.95, s.momentum(200), 1e-12);
        assertEquals(Double.NaN, new RecipeSchedule(Recipe.Shape.COSINE, 0, 200).momentum(10), "other schedules keep the recipe's momentum");
        // warm-up multiplies any schedule
        assertEquals(0.5 / 25.0, new RecipeSchedule(Recipe.Shape.ONE_CYCLE, 2, 200).factor(0), 1e-12);
    }
}
