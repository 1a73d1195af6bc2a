package dev.graft.train;

import dev.graft.data.BadImages;
import dev.graft.data.DataSplits;
import dev.graft.data.ImageFolder;
import dev.graft.data.Preprocessing;
import dev.graft.model.Network;

/**
 * The untouched source body's pooled features of the training, validation and test images, each computed once,
 * the first time something asks (the probe, its evaluation, the zero-shot accuracy, a frozen body's head-only
 * training, the data check), and shared from then on. They describe the source's weights: once training has
 * started changing the body ({@link #seal}), a set not computed before can no longer be. With a {@link FeatureCache}
 * (graft check's, by image content), images seen before by the same source model are not computed again.
 */
public final class SourceFeatures {
    private final Network net;
    private final DataSplits data;
    private final Preprocessing pre;
    private final TrainOptions opts;
    private final BadImages bad;
    private final FeatureCache cache;
    private FeatureSet train;
    private FeatureSet validation;
    private FeatureSet test;
    private boolean sealed;
    private ImageFolder allTrainingFolder;
    private double seconds;
    private long images;

    public SourceFeatures(Network net, DataSplits data, Preprocessing pre, TrainOptions opts, BadImages bad) {
        this(net, data, pre, opts, bad, null);
    }

    /** With {@code cache} (null: none) remembering features across runs and graft check. */
    public SourceFeatures(Network net, DataSplits data, Preprocessing pre, TrainOptions opts, BadImages bad, FeatureCache cache) {
        this.cache = cache;
        this.net = net;
        this.data = data;
        this.pre = pre;
        this.opts = opts;
        this.bad = bad;
    }

    public FeatureSet train() {
        return train = get(train, data.train());
    }

    /** Null without a validation split. */
    public FeatureSet validation() {
        return data.validation() == null ? null : (validation = get(validation, data.validation()));
    }

    /** Null without test images. */
    public FeatureSet test() {
        return data.test() == null ? null : (test = get(test, data.test()));
    }

    /** The training and validation features together (every training image), indexed as {@link #allTrainingFolder()}'s samples. */
    public FeatureSet allTraining() {
        if (validation() == null) {
            return train();
        }
        ImageFolder all = allTrainingFolder();
        java.util.Map<String, Integer> index = new java.util.HashMap<>();
        for (int i = 0; i < all.size(); i++) {
            index.put(all.dir().relativize(all.samples().get(i).path()).toString(), i);
        }
        FeatureSet both = train().concat(validation());
        int[] samples = new int[both.size()];
        for (int i = 0; i < samples.length; i++) {
            samples[i] = index.get(both.ids()[i]);
        }
        return new FeatureSet(both.features(), both.labels(), samples, both.ids(), both.dim()).sorted();
    }

    /** The features of one of the run's folders: its training, validation or test images, or the training and validation images together. */
    public FeatureSet of(ImageFolder folder) {
        if (folder == data.train()) {
            return train();
        } else if (folder == data.validation()) {
            return validation();
        } else if (folder == data.test()) {
            return test();
        } else if (folder == allTrainingFolder) {
            return allTraining();
        }
        throw new IllegalArgumentException("no source features for " + folder.dir() + " (" + folder.size() + " images)");
    }

    /** Every training image, the validation part included, as one folder (the retrain's). */
    public ImageFolder allTrainingFolder() {
        if (allTrainingFolder == null) {
            allTrainingFolder = data.validation() == null ? data.train() : data.train().union(data.validation());
        }
        return allTrainingFolder;
    }

    /** The body is about to train: from now on only the sets already computed are available. */
    public void seal() {
        sealed = true;
    }

    private FeatureSet get(FeatureSet cached, ImageFolder folder) {
        if (cached != null) {
            return cached;
        }
        if (sealed) {
            throw new IllegalStateException("the source body's features of " + folder.dir() + " were not computed before training changed the body");
        }
        long t0 = System.nanoTime();
        FeatureSet fs = cache == null ? FeatureSet.compute(net, folder, pre, opts, bad)
                : cache.compute(net, folder, pre, opts, bad, FeatureCache.Progress.NONE);
        seconds += (System.nanoTime() - t0) / 1e9;
        images += fs.size();
        return fs;
    }

    /** The cache these features go through (null: none): pixel spreads and thumbnails for the data check. */
    public FeatureCache cache() {
        return cache;
    }

    /** Seconds per image of the feature passes so far (the body's inference speed here, decoding included). */
    public double secondsPerImage() {
        return images == 0 ? 0 : seconds / images;
    }
}
