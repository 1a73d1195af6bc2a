package dev.graft.train;

import ai.djl.ndarray.NDManager;
import dev.graft.Images;
import dev.graft.Shared;
import dev.graft.data.BadImages;
import dev.graft.data.DataSplits;
import dev.graft.data.Preprocessing;
import dev.graft.model.Architecture;
import dev.graft.model.Architectures;
import dev.graft.model.Backbone;
import dev.graft.model.Network;
import dev.graft.model.nn.Torch;
import dev.graft.util.Json;
import dev.graft.weights.Downloader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The default recipe's search on a small real set: the time limit, the retrain on every image, the plan per quality. */
class RecipeSearchTest {
    @TempDir
    Path tmp;

    /** The pieces FineTuning hands the search: data with a validation split, the network with its probe head, the probe's figures. */
    record Parts(Recipe recipe, DataSplits data, Backbone source, Network net, Training.Setup setup, Probe.Head probe, Evaluation probeVal) {
    }

    Parts parts(NDManager m, Recipe recipe, int perClass) throws Exception {
        Path root = Images.dataset(tmp.resolve("data"), new String[] {"a", "b"}, perClass, 2);
        RunConfig cfg = RunConfig.builder(root, "resnet18", recipe).weights(Shared.path("fixtures/torchvision/resnet18_seed0.pth"))
                .imageSize(32).build();
        Architecture arch = Architectures.get("resnet18");
        Preprocessing pre = FineTuning.preprocessing(cfg, arch);
        TrainOptions opts = Fixtures.quiet();
        Backbone source = Backbone.load(arch, cfg.weights(), true, new Downloader(tmp, s -> { }, false), pre, s -> { });
        DataSplits data = DataSplits.load(cfg.source(), 0, 0, recipe.selection().validation(), recipe.seed(), s -> { });
        Network net = FineTuning.targetNetwork(cfg, source, 2, m, s -> { });
        BadImages bad = new BadImages(s -> { });
        SourceFeatures features = new SourceFeatures(net, data, pre, opts, bad);
        FineTuning.HeadStart h = FineTuning.initHead(recipe, net, source, data.classes(), features, s -> { });
        Evaluation pv = new LinearProbe(2, net.featureDim()).evaluate(h.probe().fit(), features.validation());
        features.allTraining();
        features.seal();
        return new Parts(recipe, data, source, net, new Training.Setup(pre, opts, bad, features, s -> { }, new StopSignal()), h.probe(), pv);
    }

    static Recipe auto(Recipe.Quality q, double timeLimit) {
        Recipe r = Recipe.auto(Recipe.Mode.FINETUNE, "resnet18", 20, 1);
        return r.toBuilder().batchSize(4).search(new Recipe.Search(q, timeLimit, true, true)).build();
    }

    @Test
    void theTimeLimitEndsTheRaceMidWayAndTheBestSoFarIsKept() throws Exception {
        // a clock that moves 100 s per epoch: the limit of 450 s fits the first candidate's three epochs and one more
        AtomicLong clock = new AtomicLong();
        TrainingListener tick = new TrainingListener() {
            @Override
            public int order() {
                return ORDER_PHASE - 1; // the epoch's time has passed before anything looks at the clock
            }

            @Override
            public void onEpoch(Trainer t) {
                clock.addAndGet(100_000_000_000L);
            }
        };
        try (NDManager m = Torch.newManager()) {
            Recipe r = auto(Recipe.Quality.MEDIUM, 450);
            Parts p = parts(m, r, 10);
            Deadline d = new Deadline(450, 0, clock::get);
            SearchPlan.Plan plan = SearchPlan.of(r, p.net(), 1);
            assertEquals(4, plan.candidates().size(), "three rates and a BatchNorm mode for a BatchNorm network");
            RecipeSearch s = new RecipeSearch(r, p.net(), p.data(), p.setup(), plan, d, null, 0, Json.object(), List.of(tick));
            SearchReport rep = s.run(p.probe(), p.probeVal(), null, p.source()).report();
            assertTrue(rep.timeRanOut(), "the report says the time limit cut the search");
            List<SearchReport.Entry> cands = rep.entries().subList(1, rep.entries().size());
            assertEquals(3, cands.get(0).epochs(), "the first candidate reached the rung: " + cands);
            assertEquals(1, cands.get(1).epochs(), "the second stopped at the epoch that would pass the limit: " + cands);
            assertTrue(cands.stream().skip(2).allMatch(e -> e.epochs() == 0 && e.status().startsWith("not started")), cands.toString());
            assertTrue(rep.fineTuned() ? rep.retrain().startsWith("not retrained") : rep.retrain().startsWith("the probe refitted"), rep.retrain());
            assertTrue(clock.get() <= 500_000_000_000L, "nothing trained after the limit");
        }
    }

    @Test
    void theRetrainTrainsOnEveryTrainingImage() throws Exception {
        Set<String> seen = new HashSet<>();
        List<Integer> perEpoch = new ArrayList<>();
        TrainingListener record = new TrainingListener() {
            int n;

            @Override
            public void onBatch(Trainer t, BatchSource.Batch b, float lossSum) {
                for (int i = 0; i < b.size(); i++) {
                    seen.add(t.data().describe(b.samples()[i]));
                }
                n += b.size();
            }

            @Override
            public void onEpoch(Trainer t) {
                perEpoch.add(n);
                n = 0;
            }
        };
        try (NDManager m = Torch.newManager()) {
            Recipe r = auto(Recipe.Quality.MEDIUM, 0);
            Parts p = parts(m, r, 10);
            SearchPlan.Plan plan = SearchPlan.of(r, p.net(), 1);
            RecipeSearch s = new RecipeSearch(r, p.net(), p.data(), p.setup(), plan, new Deadline(0), null, 0, Json.object(), List.of(record));
            Probe.Head all = Probe.fit(p.setup().features().allTraining(), 2, 1);
            List<EpochMetrics> h = s.retrain(plan.candidates().get(0), 2, all, p.source());
            assertEquals(2, h.size(), "the winner's best number of epochs");
            Set<String> every = new HashSet<>();
            p.data().train().samples().forEach(x -> every.add(x.path().toString()));
            p.data().validation().samples().forEach(x -> every.add(x.path().toString()));
            assertEquals(20, every.size());
            assertEquals(every, seen, "the retrain saw the validation images too");
            assertEquals(List.of(20, 20), perEpoch, "each epoch every training image once");
        }
    }

    @Test
    void qualitiesPlanWhatTheySay() throws Exception {
        try (NDManager m = Torch.newManager()) {
            Parts p = parts(m, auto(Recipe.Quality.MEDIUM, 0), 5);
            SearchPlan.Plan fast = SearchPlan.of(auto(Recipe.Quality.FAST, 0), p.net(), 20);
            assertEquals(1, fast.candidates().size());
            assertEquals(2, fast.horizon(), "as many epochs as fit the 45 s budget at 20 s each");
            assertFalse(fast.retrain());
            SearchPlan.Plan best = SearchPlan.of(auto(Recipe.Quality.BEST, 0), p.net(), 20);
            assertEquals(8, best.candidates().size(), "four rates, each with BatchNorm trained and kept");
            assertTrue(best.horizon() > SearchPlan.of(auto(Recipe.Quality.MEDIUM, 0), p.net(), 20).horizon());
            // a user's --lr fixes the rate: only the BatchNorm mode is searched
            Recipe fixed = auto(Recipe.Quality.MEDIUM, 0).toBuilder().search(new Recipe.Search(Recipe.Quality.MEDIUM, 0, false, true)).build();
            SearchPlan.Plan one = SearchPlan.of(fixed, p.net(), 20);
            assertEquals(2, one.candidates().size());
            assertEquals(one.candidates().get(0).recipe().optimization().lr() * SearchPlan.KEPT_BATCHNORM_LR,
                    one.candidates().get(1).recipe().optimization().lr(), 1e-12, "BatchNorm kept races at a tenth of the rate");
            assertTrue(one.candidates().get(1).recipe().regularisation().frozenBatchNorm());
        }
    }
}
