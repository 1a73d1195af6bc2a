package dev.graft.train;

import dev.graft.model.Network;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The default recipe's race, planned from its quality ({@link RecipeSearch} runs it). */
final class SearchPlan {
    private SearchPlan() {
    }

    /** A fine-tune candidate: its recipe and what sets it apart from the others. */
    record Candidate(String id, Recipe recipe, String label) {
    }

    /**
     * How the race is run: its candidates, the epochs after which it keeps only the best ({@code rungs}) and how
     * many it keeps each time ({@code keep}), the schedule's length in epochs, whether the winner is retrained on
     * every image, and a bound on the fine-tuning's seconds (0: none but the run's time limit).
     */
    record Plan(List<Candidate> candidates, int[] rungs, int[] keep, int horizon, boolean retrain, double fineTuneSeconds) {
    }

    /**
     * The plan a quality asks for, for this network: learning rates around the family's (x 10^-1/2 .. 10^1/2 for
     * medium), BatchNorm trained or kept where the body has BatchNorm; fast: one candidate in about a minute;
     * best: a wider grid, both BatchNorm modes at every rate, two rungs and a longer schedule.
     */
    static Plan of(Recipe base, Network net, double secondsPerEpochEstimate) {
        Recipe.Search s = base.search();
        boolean bn = net.hasBatchNorm() && s.searchBatchNorm();
        double lr = base.optimization().lr();
        int horizon = base.schedule().epochs();
        List<Candidate> cs = new ArrayList<>();
        switch (s.quality()) {
            case FAST -> {
                int h = (int) Math.max(1, Math.min(horizon, Math.floor(FAST_SECONDS / Math.max(1e-3, secondsPerEpochEstimate))));
                cs.add(candidate(base, h, lr, false));
                return new Plan(cs, new int[0], new int[0], h, false, FAST_SECONDS);
            }
            case MEDIUM -> {
                double[] f = s.searchLr() ? new double[] {Math.pow(10, -0.5), 1, Math.pow(10, 0.5)} : new double[] {1};
                for (double m : f) {
                    cs.add(candidate(base, horizon, lr * m, false));
                }
                if (bn) {
                    cs.add(candidate(base, horizon, lr * KEPT_BATCHNORM_LR, true));
                }
                int rung = (int) Math.max(1, Math.round(MEDIUM_RUNG * horizon));
                return rung < horizon && cs.size() > 1 ? new Plan(cs, new int[] {rung}, new int[] {1}, horizon, true, 0)
                        : new Plan(cs, new int[0], new int[0], horizon, true, 0);
            }
            default -> {
                double[] f = s.searchLr() ? new double[] {Math.pow(10, -0.75), Math.pow(10, -0.25), Math.pow(10, 0.25), Math.pow(10, 0.75)}
                        : new double[] {1};
                int h = (int) Math.round(horizon * BEST_LONGER);
                for (double m : f) {
                    cs.add(candidate(base, h, lr * m, false));
                    if (bn) {
                        cs.add(candidate(base, h, lr * m * KEPT_BATCHNORM_LR, true));
                    }
                }
                int r1 = (int) Math.max(1, Math.round(0.15 * h));
                int r2 = (int) Math.max(r1 + 1, Math.round(0.35 * h));
                return r2 < h && cs.size() > 2 ? new Plan(cs, new int[] {r1, r2}, new int[] {Math.max(1, (cs.size() + 2) / 3), 1}, h, true, 0)
                        : new Plan(cs, new int[0], new int[0], h, true, 0);
            }
        }
    }

    /**
     * Fast's fine-tuning budget: 45 s of training, so that with its validation passes, the choice and the probe's
     * refit fast stays within a minute of the probe alone.
     */
    static final double FAST_SECONDS = 45;
    /** Medium's race keeps one candidate after this share of the schedule (epoch 3 of 10). */
    static final double MEDIUM_RUNG = 0.3;
    /**
     * BatchNorm keeping the source's statistics races at a tenth of the rate: at the rates where fine-tuning with
     * trained statistics moves, kept statistics diverged (MobileNet v1 on sketch7 at 3e-3: validation 0.15 by epoch 1)
     * because the normalisation no longer matches the layers it follows.
     */
    static final double KEPT_BATCHNORM_LR = 0.1;
    /** Best's schedule is this much longer than medium's. */
    static final double BEST_LONGER = 1.5;

    private static Candidate candidate(Recipe base, int horizon, double lr, boolean frozenBn) {
        Recipe.Selection sel = base.selection();
        Recipe r = base.withoutSearch().with(base.optimization().withLr(lr)).with(base.schedule().withEpochs(horizon))
                .with(new Recipe.Selection(sel.validation(), 0, false, false))
                .with(new Recipe.Regularisation(base.regularisation().labelSmoothing(), base.regularisation().classWeights(),
                        base.regularisation().bnMomentum(), frozenBn || base.regularisation().frozenBatchNorm()));
        String label = String.format(Locale.ROOT, "%s lr %.2g%s", base.optimization().optimizer().label(), r.meanLossLr(),
                frozenBn ? ", BatchNorm statistics kept" : "");
        String id = String.format(Locale.ROOT, "%s-%.2g%s", base.optimization().optimizer().label(), r.meanLossLr(), frozenBn ? "-bnkept" : "");
        return new Candidate(id, r, label);
    }
}
