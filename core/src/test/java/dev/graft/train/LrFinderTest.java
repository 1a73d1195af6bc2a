package dev.graft.train;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** fastai's valley rule, on a curve whose answer is known. */
class LrFinderTest {

    @Test
    void valleyIsTwoThirdsAlongTheLongestFall() {
        int n = 100;
        double[] lrs = new double[n];
        double[] losses = new double[n];
        for (int i = 0; i < n; i++) {
            lrs[i] = 1e-7 * Math.pow(1e8, i / 99.0);
            // flat, then falling from index 10 to 70, then rising steeply
            losses[i] = i < 10 ? 5 : i <= 70 ? 5 - 4.0 * (i - 10) / 60 : 1 + (i - 70);
        }
        // points 10..94 are considered; the fall spans their first 61, so (as fastai's code computes it) the run
        // starts at -1, sections = 61 / 3, and the index is -1 + 20 + 10 = 29 of the considered points
        assertEquals(lrs[10 + 29], LrFinder.valley(lrs, losses, n), 0);
    }

    @Test
    void aShortSweepStillSuggestsInsideIt() {
        double[] lrs = {1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100};
        double[] losses = {3, 2.5, 2, 1.5, 1, 3, 9, 30};
        double s = LrFinder.valley(lrs, losses, 100);
        assertEquals(true, s >= lrs[0] && s <= lrs[lrs.length - 1], "suggestion " + s);
    }
}
