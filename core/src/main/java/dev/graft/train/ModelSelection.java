package dev.graft.train;

import dev.graft.data.BadImages;
import dev.graft.data.DataSplits;
import dev.graft.data.Preprocessing;
import dev.graft.model.Backbone;
import dev.graft.model.Network;

import java.util.Locale;
import java.util.function.Consumer;

/**
 * The default recipe's decision between the linear probe and the fine-tuned network, on validation images that
 * neither was trained on, compared image by image (paired). Fine-tuning is kept only when it gets more images
 * right by more than the noise of that count (the one-standard-error rule: b - c > sqrt(b + c), with b images only
 * fine-tuning gets right and c only the probe). Otherwise the probe is kept and refitted on every training image,
 * which makes it the same model as --mode probe; the refit also gives the probe the fifth of the images that the
 * fine-tuned network never saw, one more reason to ask for evidence before preferring the network. A lower
 * validation loss alone does not decide: it moved with noise on sets of 20-50 images here, and accuracy is the
 * figure users get.
 */
public final class ModelSelection {
    private ModelSelection() {
    }

    /** The verdict and its evidence. */
    public record Decision(boolean fineTuned, String why) {
    }

    /** Probe or fine-tuned network, from their predictions on the same validation images (same order). */
    public static Decision decide(Evaluation probe, Evaluation fineTuned) {
        int n = probe.size();
        if (fineTuned.size() != n) {
            throw new IllegalArgumentException("the two models were evaluated on different images");
        }
        double accP = probe.accuracy();
        double accF = fineTuned.accuracy();
        int b = 0;
        int c = 0;
        for (int i = 0; i < n; i++) {
            boolean p = probe.predictions()[i] == probe.labels()[i];
            boolean f = fineTuned.predictions()[i] == fineTuned.labels()[i];
            if (f && !p) {
                b++;
            } else if (p && !f) {
                c++;
            }
        }
        double mean = 0;
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            d[i] = probe.lossOf(i) - fineTuned.lossOf(i);
            mean += d[i] / n;
        }
        double var = 0;
        for (double v : d) {
            var += (v - mean) * (v - mean);
        }
        double se = n > 1 ? Math.sqrt(var / (n - 1) / n) : Double.POSITIVE_INFINITY;
        double accSe = Math.sqrt(b + c);
        boolean keep = b - c > accSe;
        String figures = String.format(Locale.ROOT, "on %d validation images: probe accuracy %.3f, loss %.3f; fine-tuned "
                + "accuracy %.3f, loss %.3f; images only fine-tuning gets right %d, only the probe %d; loss difference %.3f, "
                + "standard error %.3f", n, accP, probe.loss(), accF, fineTuned.loss(), b, c, mean, se);
        return new Decision(keep, keep
                ? "kept the fine-tuned network: it beat the probe " + figures
                : "kept the probe: fine-tuning did not beat it " + figures);
    }

    /**
     * After fine-tuning from a probe head: decides, and when the probe wins puts the source's body back and refits
     * the probe on the training and validation features of that untouched body.
     */
    static Decision select(Network net, Backbone source, DataSplits data, Preprocessing pre, TrainOptions opts, BadImages bad,
                           Probe.Head probe, FeatureSet trainFeatures, FeatureSet valFeatures, long seed, Consumer<String> log) {
        Evaluation p = new LinearProbe(net.numClasses(), net.featureDim()).evaluate(probe.fit(), valFeatures);
        Evaluation f = Evaluator.evaluate(net, data.validation(), pre, opts, bad);
        Decision d = decide(p, f);
        String why = d.why();
        if (!d.fineTuned()) {
            source.copyBody(net);
            FeatureSet all = trainFeatures.concat(valFeatures);
            Probe.Head h = Probe.fit(all, net.numClasses(), seed);
            net.setHead(h.fit().weight(), h.fit().bias());
            why += "; the probe refitted on all " + all.size() + " training images: " + h.cv().describe();
        }
        log.accept(why);
        return new Decision(d.fineTuned(), why);
    }
}
