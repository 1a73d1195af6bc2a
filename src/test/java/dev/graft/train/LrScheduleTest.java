package dev.graft.train;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The learning-rate factor is a pure function of the step. */
class LrScheduleTest {

    @Test
    void constantIsOne() {
        LrSchedule s = new LrSchedule(Recipe.Schedule.CONSTANT, 0, 100);
        assertEquals(1.0, s.factor(0));
        assertEquals(1.0, s.factor(99));
    }

    @Test
    void warmupRisesLinearlyThenCosineFallsToZero() {
        LrSchedule s = new LrSchedule(Recipe.Schedule.COSINE, 4, 100);
        assertEquals(0.25 * 0.5 * (1 + Math.cos(0)), s.factor(0), 1e-12);
        assertEquals(0.75 * 0.5 * (1 + Math.cos(Math.PI * 2 / 100)), s.factor(2), 1e-12);
        assertEquals(0.5, s.factor(50), 1e-12);
        assertEquals(0.5 * (1 + Math.cos(Math.PI * 0.75)), s.factor(75), 1e-12);
        assertEquals(0.0, s.factor(100), 1e-12);
        assertEquals(0.0, s.factor(150), 1e-12, "past the end it stays at zero");
        // pure: the same step gives the same factor whatever was asked before (resume replays it)
        assertEquals(s.factor(37), new LrSchedule(Recipe.Schedule.COSINE, 4, 100).factor(37));
    }
}
