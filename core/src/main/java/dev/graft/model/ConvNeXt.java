package dev.graft.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.graft.data.Preprocessing;
import dev.graft.data.Resample;
import dev.graft.model.nn.Activation;
import dev.graft.model.nn.Compute;
import dev.graft.model.nn.Conv2d;
import dev.graft.model.nn.Init;
import dev.graft.model.nn.LayerNorm;
import dev.graft.model.nn.Layers;
import dev.graft.model.nn.Linear;
import dev.graft.model.nn.FeatureMap;
import dev.graft.model.nn.Module;
import dev.graft.model.nn.Ops;
import dev.graft.model.nn.Sequential;
import dev.graft.model.nn.StochasticDepth;
import dev.graft.onnx.OnnxGraph;

import java.util.List;
import java.util.Map;

/**
 * torchvision's ConvNeXt tiny and small (Liu et al. 2022): a 4x4 patchify stem, blocks of depthwise 7x7 conv,
 * LayerNorm, an inverted MLP with GELU, a learned layer scale and stochastic depth; LayerNorm2d + 2x2 conv
 * between stages. {@code features.*}, pooling, then {@code classifier = [LayerNorm2d, Flatten, Linear]}: the
 * LayerNorm belongs to the body, the Linear is the head. No BatchNorm, so nothing to fold.
 */
public final class ConvNeXt extends TorchvisionModel {
    static final int[] DIMS = {96, 192, 384, 768};

    private final int[] depths;
    private final double stochasticDepth;

    private ConvNeXt(String name, String file, int[] depths, double stochasticDepth, Preprocessing pre, ModelCard card) {
        super(name, file, "classifier.2", pre, card);
        this.depths = depths;
        this.stochasticDepth = stochasticDepth;
    }

    static List<Architecture> variants() {
        return List.of(
                new ConvNeXt("convnext_tiny", "convnext_tiny-983f1562.pth", new int[] {3, 3, 9, 3}, 0.1,
                        Preprocessing.torchvision(236, 224, Resample.Filter.BILINEAR), new ModelCard(28_589_128, 4.46, 224, 82.52, LICENSE)),
                new ConvNeXt("convnext_small", "convnext_small-0c510722.pth", new int[] {3, 3, 27, 3}, 0.4,
                        Preprocessing.torchvision(230, 224, Resample.Filter.BILINEAR), new ModelCard(50_223_688, 8.68, 224, 83.616, LICENSE)));
    }

    @Override
    public Body build(Layers l) {
        return Body.of(new Trunk(l, depths, stochasticDepth), DIMS[3], 0f);
    }

    /** torchvision's init: conv and linear weights trunc_normal_(std 0.02) with zero biases; norms 1 and 0; layer scale 1e-6. */
    @Override
    public void initScratch(Network net, long seed) {
        Init init = new Init(seed);
        for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
            String k = e.getKey();
            long[] s = Init.shape(e.getValue());
            if (k.endsWith("layer_scale")) {
                Init.constant(e.getValue(), 1e-6f);
            } else if (s.length >= 2) {
                init.truncNormal(e.getValue(), 0.02);
            } else {
                // a 1-d weight is a LayerNorm's (conv and linear weights have 2 or more dimensions)
                Init.constant(e.getValue(), k.endsWith(".weight") ? 1f : 0f);
            }
        }
    }

    static final class Trunk extends Module implements FeatureMap {
        private final Sequential features;
        private final LayerNorm norm;

        Trunk(Layers l, int[] depths, double stochasticDepth) {
            features = add("features", new Sequential());
            features.add(new Stem(l));
            int total = 0;
            for (int d : depths) {
                total += d;
            }
            int id = 0;
            for (int s = 0; s < 4; s++) {
                Sequential stage = features.add(new Sequential());
                for (int i = 0; i < depths[s]; i++) {
                    stage.add(new CNBlock(l, DIMS[s], stochasticDepth * id / (total - 1.0)));
                    id++;
                }
                if (s < 3) {
                    features.add(new Downsample(l, DIMS[s], DIMS[s + 1]));
                }
            }
            Sequential classifier = add("classifier", new Sequential());
            norm = classifier.add(l.layerNorm(DIMS[3], 1e-6));
        }

        @Override
        public NDArray apply(NDArray x, boolean training) {
            return FeatureMap.apply(this, x, training);
        }

        @Override
        public NDArray featureMap(NDArray x, boolean training) {
            return features.apply(x, training);
        }

        @Override
        public NDArray pool(NDArray map, boolean training) {
            NDArray a = map.getNDArrayInternal().globalAvgPool();
            return free(a, norm.apply(a, training));
        }

        @Override
        protected OnnxGraph.Value exportOnnx(OnnxGraph g, OnnxGraph.Value x) {
            return norm.onnx(g, g.flatten(g.globalPool(false, features.onnx(g, x))));
        }
    }

    /** {@code features.0 = [Conv2d 4x4 stride 4 with bias, LayerNorm2d]}. */
    static final class Stem extends Module {
        private final Conv2d conv;
        private final LayerNorm norm;

        Stem(Layers l) {
            conv = add("0", l.conv(3, DIMS[0], 4, 4, 4, 4, 0, 0, 1, 1, true));
            norm = add("1", l.layerNorm(DIMS[0], 1e-6));
        }

        @Override
        public NDArray apply(NDArray x, boolean training) {
            NDArray y = conv.apply(x, training);
            return free(y, norm.applyChannels(y, training));
        }

        @Override
        protected OnnxGraph.Value exportOnnx(OnnxGraph g, OnnxGraph.Value x) {
            return norm.onnxChannels(g, conv.onnx(g, x));
        }
    }

    /** Between stages: {@code [LayerNorm2d, Conv2d 2x2 stride 2 with bias]}. */
    static final class Downsample extends Module {
        private final LayerNorm norm;
        private final Conv2d conv;

        Downsample(Layers l, int in, int out) {
            norm = add("0", l.layerNorm(in, 1e-6));
            conv = add("1", l.conv(in, out, 2, 2, 2, 2, 0, 0, 1, 1, true));
        }

        @Override
        public NDArray apply(NDArray x, boolean training) {
            NDArray y = norm.applyChannels(x, training);
            return free(y, conv.apply(y, training));
        }

        @Override
        protected OnnxGraph.Value exportOnnx(OnnxGraph g, OnnxGraph.Value x) {
            return conv.onnx(g, norm.onnxChannels(g, x));
        }
    }

    /** {@code block = [dwconv 7x7, Permute, LayerNorm, Linear(4x), GELU, Linear, Permute]} x layer_scale, drop-path, + input. */
    static final class CNBlock extends Module {
        private final Conv2d dwconv;
        private final LayerNorm norm;
        private final Linear fc1;
        private final Linear fc2;
        private final Parameter layerScale;
        private final double dropPath;
        private final Compute compute;

        CNBlock(Layers l, int dim, double dropPath) {
            this.compute = l.compute();
            this.dropPath = dropPath;
            Sequential block = add("block", new Sequential());
            dwconv = block.add("0", l.conv(dim, dim, 7, 7, 1, 1, 3, 3, 1, dim, true));
            norm = block.add("2", l.layerNorm(dim, 1e-6));
            fc1 = block.add("3", l.linear(dim, 4 * dim, true));
            fc2 = block.add("5", l.linear(4 * dim, dim, true));
            layerScale = add(l.parameter("layer_scale", true, new Shape(dim, 1, 1), 1e-6f));
        }

        @Override
        public NDArray apply(NDArray x, boolean training) {
            NDArray y = dwconv.apply(x, training);
            NDArray nhwc = y.transpose(0, 2, 3, 1);
            NDArray h = free(y, norm.apply(nhwc, training));
            nhwc.close();
            h = free(h, fc1.apply(h, training));
            h = free(h, Activation.GELU.apply(h));
            h = free(h, fc2.apply(h, training));
            NDArray nchw = h.transpose(0, 3, 1, 2);
            try (NDArray scale = Ops.like(layerScale.getArray(), nchw)) {
                NDArray r = nchw.mul(scale);
                nchw.close();
                h.close();
                r = free(r, StochasticDepth.apply(compute, r, dropPath, training));
                return free(r, r.add(x));
            }
        }

        /** dwconv, then in NHWC LayerNorm, the MLP and the layer scale, back to NCHW, + input (drop-path: identity). */
        @Override
        protected OnnxGraph.Value exportOnnx(OnnxGraph g, OnnxGraph.Value x) {
            OnnxGraph.Value h = g.transpose(dwconv.onnx(g, x), 0, 2, 3, 1);
            h = fc2.onnx(g, Activation.GELU.onnx(g, fc1.onnx(g, norm.onnx(g, h))));
            OnnxGraph.Value r = g.mul(g.transpose(h, 0, 3, 1, 2), g.weight("layer_scale", layerScale.getArray().toFloatArray(),
                    layerScale.getArray().getShape().getShape()));
            return g.add(r, x);
        }
    }
}
