package dev.graft.train;

import com.fasterxml.jackson.databind.JsonNode;
import dev.graft.train.Recipe.Augmentation;
import dev.graft.train.Recipe.ClassWeights;
import dev.graft.train.Recipe.HeadInit;
import dev.graft.train.Recipe.Mode;
import dev.graft.train.Recipe.Optimization;
import dev.graft.train.Recipe.Reduction;
import dev.graft.train.Recipe.Regularisation;
import dev.graft.train.Recipe.Schedule;
import dev.graft.train.Recipe.Search;
import dev.graft.train.Recipe.Selection;
import dev.graft.train.Recipe.Shape;
import dev.graft.util.Json;

/** A recipe from its JSON: the nested form graft writes, or the flat one of graft 0.1's bundles and configs. */
final class RecipeJson {
    private RecipeJson() {
    }

    /** Reads a recipe from JSON: the nested form, or the flat one bundles and configs had before it (every field at the top level). */
    static Recipe read(JsonNode n) {
        if (n.has("optimization")) {
            return new Recipe(n.path("name").asText(), Json.MAPPER.convertValue(n.get("mode"), Mode.class),
                    Json.MAPPER.convertValue(n.get("optimization"), Optimization.class),
                    Json.MAPPER.convertValue(n.get("schedule"), Schedule.class),
                    Json.MAPPER.convertValue(n.get("augmentation"), Augmentation.class),
                    Json.MAPPER.convertValue(n.get("regularisation"), Regularisation.class),
                    selection(n.get("selection")),
                    Json.MAPPER.convertValue(n.get("headInit"), HeadInit.class),
                    n.hasNonNull("search") ? Json.MAPPER.convertValue(n.get("search"), Search.class) : null,
                    n.path("seed").asLong(1));
        }
        // graft 0.1's flat recipe
        Recipe d = Recipe.book(Json.MAPPER.convertValue(n.get("mode"), Mode.class), n.path("seed").asLong(1));
        JsonNode bn = n.get("bnMomentum");
        return new Recipe(n.path("name").asText("book"), d.mode(),
                new Optimization(Optimizer.Kind.SGD, n.path("lr").asDouble(), Json.MAPPER.convertValue(n.get("lossReduction"), Reduction.class),
                        n.path("headLrMult").asDouble(10), n.path("weightDecay").asDouble(), true, n.path("momentum").asDouble(),
                        n.path("lrGroups").asInt(2), n.path("lrMinRatio").asDouble(1)),
                new Schedule(Shape.valueOf(n.path("schedule").asText("CONSTANT")), n.path("epochs").asInt(), n.path("batchSize").asInt(),
                        n.path("warmupSteps").asInt(), n.path("freezeEpochs").asInt()),
                new Augmentation(n.path("augment").asBoolean(), n.path("minCropScale").asDouble(Recipe.BOOK_MIN_CROP_SCALE),
                        n.path("mixup").asDouble(), n.path("cutmix").asDouble()),
                new Regularisation(n.path("labelSmoothing").asDouble(), ClassWeights.valueOf(n.path("classWeights").asText("NONE")),
                        bn == null || bn.isNull() ? null : bn.asDouble(), n.path("frozenBatchNorm").asBoolean()),
                new Selection(n.path("validation").asDouble(), n.path("patience").asInt(), n.path("testEachEpoch").asBoolean(true)),
                HeadInit.valueOf(n.path("headInit").asText("XAVIER")), null, d.seed());
    }

    /** A selection as saved; one saved before keepBestEpoch existed kept its best epoch. */
    private static Selection selection(JsonNode s) {
        return new Selection(s.path("validation").asDouble(), s.path("patience").asInt(), s.path("testEachEpoch").asBoolean(true),
                s.path("keepBestEpoch").asBoolean(true));
    }
}
