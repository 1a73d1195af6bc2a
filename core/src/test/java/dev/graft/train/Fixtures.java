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
    public static Recipe.Builder recipe(Recipe.Mode mode, int epochs, int batch) {
        return Recipe.book(mode, 1).toBuilder().epochs(epochs).batchSize(batch);
    }

    /**
     * Trains as FineTuning's step 4 does (two learning-rate groups, the recipe's augmentation, evaluation after each
     * epoch), with {@code extra} listeners last; returns the loop's final state.
     */
    public static Trainer.State fit(Network net, Recipe r, DataSplits data, TrainOptions opts, List<TrainingListener> extra) {
        return fit(net, r, data, SMALL, opts, extra);
    }

    public static Trainer.State fit(Network net, Recipe r, DataSplits data, Preprocessing pre, TrainOptions opts,
                                    List<TrainingListener> extra) {
        net.setFrozenBody(r.mode() == Recipe.Mode.FROZEN);
        net.compute().setBatchNormStatisticsFrozen(r.frozenBatchNorm());
        BadImages bad = new BadImages(opts.log());
        Transforms.ImageTransform t = r.augment()
                ? Transforms.randomResizedCrop(pre, r.minCropScale(), 1.0, 3.0 / 4.0, 4.0 / 3.0, true) : Transforms.bookTest(pre);
        List<TrainingListener> listeners = new ArrayList<>(List.of(new DivergenceGuard(null),
                new EpochEvaluation(data, pre, opts, bad, null, null, r.testEachEpoch()), new KeepBestEpoch(opts.log())));
        listeners.addAll(extra);
        try (BatchSource source = BatchSource.images(data.train(), t, pre, r.batchSize(), r.seed(), opts, bad)) {
            Trainer trainer = new Trainer(net, ParamGroups.bodyAndHead(net, r.lr(), r.lr() * r.headLrMult()),
                    LrSchedule.of(r, (long) source.batchesPerEpoch() * r.epochs()), new GroupedSgd(r.weightDecay(), r.momentum()),
                    new Loss(r.lossReduction()), source, r.epochs(), r.seed(), listeners, new StopSignal());
            trainer.fit();
            return trainer.state();
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
