package dev.graft.train;

import ai.djl.ndarray.NDManager;
import dev.graft.Shared;
import dev.graft.data.BadImages;
import dev.graft.data.DataSplits;
import dev.graft.data.ImageFolder;
import dev.graft.data.Preprocessing;
import dev.graft.data.Transforms;
import dev.graft.model.Architectures;
import dev.graft.model.Backbone;
import dev.graft.model.Network;
import dev.graft.model.nn.Layers;
import dev.graft.weights.PthReader;
import dev.graft.weights.StateDict;
import dev.graft.weights.TensorData;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Small real training setups for tests: the fixture ResNet-18, hotdog subsets at 112 pixels, a quiet log. */
public final class Fixtures {
    public static final Preprocessing SMALL = new Preprocessing(128, false, 112, Preprocessing.IMAGENET_MEAN, Preprocessing.IMAGENET_STD);

    private Fixtures() {
    }

    public static DataSplits subset(int perClass, int testPerClass) {
        ImageFolder.Splits s = ImageFolder.book(Shared.hotdog());
        return new DataSplits(s.train().subset(perClass, 1), null, testPerClass == 0 ? null : s.test().subset(testPerClass, 1));
    }

    /** ResNet-18 with the fixture's (seeded random) torchvision weights in the body and a Xavier head. */
    public static Network resnet18(NDManager m) {
        Network net = new Backbone(Architectures.get("resnet18"), "fixture", null, null, List.of(), SMALL)
                .newNetwork(2, new Layers(m));
        net.loadBody(PthReader.read(Shared.path("fixtures/torchvision/resnet18_seed0.pth")), List.of("fc."));
        net.initHeadXavier(7);
        return net;
    }

    public static TrainOptions quiet() {
        return TrainOptions.defaults(s -> { }).withWorkers(2);
    }

    /** A recipe to start tests from: the book's, with these epochs and batch size. */
    public static RecipeBuilder recipe(Recipe.Mode mode, int epochs, int batch) {
        return Recipe.book(mode, 1).toBuilder().epochs(epochs).batchSize(batch);
    }

    /**
     * Trains as FineTuning's step 4 does (two learning-rate groups, the recipe's augmentation, evaluation after each
     * epoch), with {@code extra} listeners last; returns the loop's final state.
     */
    public static Progress fit(Network net, Recipe r, DataSplits data, TrainOptions opts, List<TrainingListener> extra) {
        return fit(net, r, data, SMALL, opts, extra);
    }

    /** As FineTuning trains a single recipe: {@link Training#of} over the data's train, validation and test images. */
    public static Progress fit(Network net, Recipe r, DataSplits data, Preprocessing pre, TrainOptions opts, List<TrainingListener> extra) {
        BadImages bad = new BadImages(opts.log());
        Training.Setup setup = new Training.Setup(pre, opts, bad, new SourceFeatures(net, data, pre, opts, bad), opts.log(), new StopSignal());
        try (Training t = Training.of(r, net, new Training.Folders(data.train(), data.validation(), data.test()), setup, null, extra)) {
            t.trainer.fit();
            return t.trainer.progress();
        }
    }

    /** Parameters and buffers of the body, to prove that a frozen body did not move. */
    public static Map<String, TensorData> snapshotBody(Network net) {
        StateDict sd = net.stateDict();
        Map<String, TensorData> out = new LinkedHashMap<>();
        for (String k : net.bodyParameters().keySet()) {
            out.put(k, sd.get(k));
        }
        return out;
    }
}
