package dev.graft.train;

import dev.graft.util.Json;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Recipes as nested records: they round-trip through JSON, read the flat form graft 0.1 saved, and check their own ranges. */
class RecipeTest {

    /** config.json's recipe as graft 0.1 wrote it (every knob at the top level), from a real run of that version. */
    static final String FLAT = """
            {"name" : "book+custom", "mode" : "FINETUNE", "epochs" : 12, "batchSize" : 32, "lr" : 2.0E-6, "headLrMult" : 10.0,
             "weightDecay" : 0.001, "momentum" : 0.9, "lossReduction" : "SUM", "schedule" : "COSINE", "warmupSteps" : 10,
             "augment" : true, "minCropScale" : 0.35, "validation" : 0.2, "headInit" : "PROBE", "bnMomentum" : 0.1,
             "frozenBatchNorm" : true, "patience" : 3, "testEachEpoch" : false, "labelSmoothing" : 0.1, "mixup" : 0.4,
             "cutmix" : 0.0, "classWeights" : "BALANCED", "freezeEpochs" : 1, "lrGroups" : 3, "lrMinRatio" : 0.01, "seed" : 7}
            """;

    @Test
    void theFlatFormOfEarlierBundlesStillLoads() throws Exception {
        Recipe r = Json.MAPPER.readValue(FLAT, Recipe.class);
        assertEquals("book+custom", r.name());
        assertEquals(Recipe.Mode.FINETUNE, r.mode());
        assertEquals(Optimizer.Kind.SGD, r.optimization().optimizer());
        assertEquals(2e-6, r.optimization().lr());
        assertEquals(Recipe.Reduction.SUM, r.optimization().loss());
        assertEquals(0.9, r.optimization().momentum());
        assertEquals(3, r.optimization().lrGroups());
        assertEquals(0.01, r.optimization().lrMinRatio());
        assertEquals(new Recipe.Schedule(Recipe.Shape.COSINE, 12, 32, 10, 1), r.schedule());
        assertEquals(new Recipe.Augmentation(true, 0.35, 0.4, 0), r.augmentation());
        assertEquals(new Recipe.Regularisation(0.1, Recipe.ClassWeights.BALANCED, 0.1, true), r.regularisation());
        assertEquals(new Recipe.Selection(0.2, 3, false), r.selection());
        assertEquals(Recipe.HeadInit.PROBE, r.headInit());
        assertNull(r.search());
        assertEquals(7, r.seed());
    }

    @Test
    void nestedRecipesRoundTrip() throws Exception {
        for (Recipe r : new Recipe[] {Recipe.book(Recipe.Mode.SCRATCH, 3), Recipe.auto(Recipe.Mode.FINETUNE, "vit_b_16", 500, 2),
            Recipe.auto(Recipe.Mode.FINETUNE, "resnet18", 100, 1).toBuilder().search(new Recipe.Search(Recipe.Quality.BEST, 600, false, true)).build()}) {
            String json = Json.pretty(r);
            assertTrue(json.contains("\"optimization\""), json);
            assertEquals(r, Json.MAPPER.readValue(json, Recipe.class));
        }
    }

    @Test
    void theFamilyPicksTheOptimizer() {
        assertEquals(Optimizer.Kind.ADAMW, Recipe.auto(Recipe.Mode.FINETUNE, "vit_b_16", 500, 1).optimization().optimizer());
        assertEquals(Optimizer.Kind.ADAMW, Recipe.auto(Recipe.Mode.FINETUNE, "convnext_tiny", 500, 1).optimization().optimizer());
        assertEquals(Optimizer.Kind.SGD, Recipe.auto(Recipe.Mode.FINETUNE, "mobilenet_v1_0.75", 500, 1).optimization().optimizer());
        Recipe.Optimization adamw = Recipe.auto(Recipe.Mode.FINETUNE, "vit_b_16", 500, 1).optimization();
        assertTrue(!adamw.decayNormAndBias() && adamw.weightDecay() > 0, "AdamW decays the weights, not norms and biases");
    }

    @Test
    void recipesCheckTheirOwnRanges() {
        // built from Java (or by the Spark jobs) with nonsense, a recipe is refused naming the option
        Recipe r = Recipe.book(Recipe.Mode.FINETUNE, 1);
        assertEquals("--epochs must be at least 1, not 0",
                assertThrows(IllegalArgumentException.class, () -> r.toBuilder().epochs(0).build()).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> r.toBuilder().warmupSteps(-1).build()).getMessage().startsWith("--warmup-steps"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> r.toBuilder().lr(0).build()).getMessage().startsWith("--lr"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> r.toBuilder().validation(1.0).build()).getMessage().startsWith("--validation"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> r.toBuilder().momentum(1).build()).getMessage().startsWith("--momentum"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> r.toBuilder().minCropScale(0).build()).getMessage().startsWith("--min-crop-scale"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> r.toBuilder().epochs(2).freezeEpochs(2).build()).getMessage().startsWith("--freeze-epochs"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new Recipe.Search(Recipe.Quality.FAST, -5, true, true)).getMessage().startsWith("--time-limit"));
    }

    @Test
    void runConfigurationsCheckTheirOwnRanges() {
        RunConfig ok = RunConfig.builder(java.nio.file.Path.of("photos"), "resnet18", Recipe.book(Recipe.Mode.FINETUNE, 1)).build();
        assertEquals(0, ok.imageSize(), "0: the weights' own size");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ok.toBuilder().imageSize(8).build()).getMessage().startsWith("--image-size"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ok.toBuilder().testSplit(1.0).build()).getMessage().startsWith("--test-split"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ok.toBuilder().perClass(-1).build()).getMessage().startsWith("--per-class"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ok.toBuilder().maxPixels(0).build()).getMessage().startsWith("--max-pixels"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> RunConfig.builder(java.nio.file.Path.of("photos"), " ", ok.recipe()).build()).getMessage().contains("--model"));
    }
}
