package dev.graft.spark;

import ai.djl.ndarray.NDManager;
import dev.graft.data.BadImageException;
import dev.graft.data.ImageDecoder;
import dev.graft.data.Preprocessing;
import dev.graft.data.RgbImage;
import dev.graft.model.Architecture;
import dev.graft.model.Architectures;
import dev.graft.model.Backbone;
import dev.graft.model.Network;
import dev.graft.model.Predictor;
import dev.graft.model.nn.Layers;
import dev.graft.model.nn.Precision;
import dev.graft.model.nn.Torch;
import dev.graft.train.RunConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Serializable;
import java.nio.file.Path;
import java.util.List;

/**
 * A source model's body, without a head: images to the pooled feature vectors graft's probe is fitted on, with
 * the weights' own preprocessing and test transform (the same features {@code graft train --mode probe} computes).
 * Safe to call from any thread.
 */
public final class FeatureModel implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FeatureModel.class);

    /**
     * What to load, as {@code graft train}'s options say it: --model, the local weights, --normalization
     * (weights, imagenet or minus1to1), --image-size (0: the weights'), --short-side-resize, --precision, --max-pixels.
     */
    public record Spec(String model, String weights, String normalization, int imageSize, boolean shortSide, String precision,
                       long maxPixels) implements Serializable {
    }

    private final NDManager manager;
    private final Backbone backbone;
    private final Predictor predictor;
    private final ImageDecoder decoder;
    private final Precision precision;

    private FeatureModel(NDManager manager, Backbone backbone, Predictor predictor, ImageDecoder decoder, Precision precision) {
        this.manager = manager;
        this.backbone = backbone;
        this.predictor = predictor;
        this.decoder = decoder;
        this.precision = precision;
    }

    public static FeatureModel load(Spec s) {
        Architecture arch = Architectures.get(s.model());
        Preprocessing pre = dev.graft.train.FineTuning.preprocessing(arch, RunConfig.Normalization.parse(s.normalization()), s.imageSize(), s.shortSide());
        Precision precision = Precision.parse(s.precision());
        return Torch.noGrad(() -> {
            Backbone b = Backbone.load(arch, Path.of(s.weights()), true, null, pre, LOG::info);
            NDManager m = Torch.newManager();
            try {
                Network net = b.newNetwork(2, new Layers(m));
                b.copyBody(net);
                net.setFrozenBody(true);
                net.compute().setPrecision(precision);
                return new FeatureModel(m, b, new Predictor(net, pre), new ImageDecoder(s.maxPixels()), precision);
            } catch (RuntimeException e) {
                m.close();
                throw e;
            }
        });
    }

    /** The model's name as loaded (e.g. mobilenet_v1_0.75 for Keras MobileNet weights of that width). */
    public String modelName() {
        return backbone.architecture().name();
    }

    public Backbone backbone() {
        return backbone;
    }

    public int dim() {
        return predictor.network().featureDim();
    }

    public Preprocessing preprocessing() {
        return predictor.preprocessing();
    }

    /** fp32 or bf16, as {@code auto} resolved on this machine. */
    public String precision() {
        return precision.resolve().label();
    }

    public RgbImage decode(byte[] bytes, String name) throws BadImageException {
        return decoder.decode(Path.of(name), bytes);
    }

    /** Pooled features, one row of {@link #dim()} per image. */
    public float[][] features(List<RgbImage> images) {
        return predictor.features(images);
    }

    @Override
    public void close() {
        predictor.close();
        manager.close();
    }
}
