package dev.graft.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import dev.graft.data.Preprocessing;
import dev.graft.data.Resample;
import dev.graft.model.nn.Activation;
import dev.graft.model.nn.Compute;
import dev.graft.model.nn.ConvNormActivation;
import dev.graft.model.nn.ConvNormActivation.BatchNormSpec;
import dev.graft.model.nn.Init;
import dev.graft.model.nn.Layers;
import dev.graft.model.nn.FeatureMap;
import dev.graft.model.nn.Module;
import dev.graft.model.nn.Sequential;
import dev.graft.model.nn.SqueezeExcitation;
import dev.graft.model.nn.StochasticDepth;
import dev.graft.onnx.OnnxGraph;

import java.util.List;
import java.util.Map;

/**
 * torchvision's EfficientNet B0-B3 (Tan and Le 2019): MBConv blocks with squeeze-and-excitation and SiLU, stochastic
 * depth rising linearly to 0.2 over the blocks, scaled in width and depth per variant; {@code features.*}, pooling,
 * {@code classifier = [Dropout, Linear]}, whose Linear is the head.
 */
public final class EfficientNet extends TorchvisionModel {
    /** expand ratio, kernel, stride, in, out, layers: B0's stages, before width and depth scaling. */
    static final int[][] STAGES = {{1, 3, 1, 32, 16, 1}, {6, 3, 2, 16, 24, 2}, {6, 5, 2, 24, 40, 2}, {6, 3, 2, 40, 80, 3},
        {6, 5, 1, 80, 112, 3}, {6, 5, 2, 112, 192, 4}, {6, 3, 1, 192, 320, 1}};
    static final double STOCHASTIC_DEPTH = 0.2;

    private final double width;
    private final double depth;
    private final float dropout;

    private EfficientNet(String name, String file, double width, double depth, float dropout, Preprocessing pre, ModelCard card) {
        super(name, file, "classifier.1", pre, card);
        this.width = width;
        this.depth = depth;
        this.dropout = dropout;
    }

    static List<Architecture> variants() {
        return List.of(
                new EfficientNet("efficientnet_b0", "efficientnet_b0_rwightman-3dd342df.pth", 1.0, 1.0, 0.2f,
                        Preprocessing.torchvision(256, 224, Resample.Filter.BICUBIC), new ModelCard(5_288_548, 0.39, 224, 77.692, LICENSE)),
                new EfficientNet("efficientnet_b1", "efficientnet_b1-c27df63c.pth", 1.0, 1.1, 0.2f,
                        Preprocessing.torchvision(255, 240, Resample.Filter.BILINEAR), new ModelCard(7_794_184, 0.69, 240, 79.838, LICENSE)),
                new EfficientNet("efficientnet_b2", "efficientnet_b2_rwightman-bcdf34b7.pth", 1.1, 1.2, 0.3f,
                        Preprocessing.torchvision(288, 288, Resample.Filter.BICUBIC), new ModelCard(9_109_994, 1.09, 288, 80.608, LICENSE)),
                new EfficientNet("efficientnet_b3", "efficientnet_b3_rwightman-cf984f9c.pth", 1.2, 1.4, 0.3f,
                        Preprocessing.torchvision(320, 300, Resample.Filter.BICUBIC), new ModelCard(12_233_232, 1.83, 300, 82.008, LICENSE)));
    }

    @Override
    public Body build(Layers l) {
        Trunk t = new Trunk(l, width, depth);
        return Body.of(t, t.channels, dropout);
    }

    /** torchvision's init: conv kaiming_normal_(fan_out), BatchNorm 1 and 0, Linear U(+-1/sqrt(out features)), zero biases. */
    @Override
    public void initScratch(Network net, long seed) {
        Init init = new Init(seed);
        for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
            String k = e.getKey();
            long[] s = Init.shape(e.getValue());
            if (s.length == 4) {
                init.kaimingNormalFanOut(e.getValue());
            } else if (s.length == 2) {
                init.uniform(e.getValue(), 1.0 / Math.sqrt(s[0]));
            } else {
                boolean bnScale = k.endsWith(".weight") && !k.startsWith("classifier.");
                Init.constant(e.getValue(), k.endsWith("running_var") || bnScale ? 1f : 0f);
            }
        }
    }

    static final class Trunk extends Module implements FeatureMap {
        private final Sequential features;
        final int channels;

        Trunk(Layers l, double width, double depth) {
            features = add("features", new Sequential());
            int first = MobileNetV3.divisible(STAGES[0][3] * width);
            features.add(new ConvNormActivation(l, 3, first, 3, 2, 1, BatchNormSpec.TORCH, Activation.SILU));
            int total = 0;
            for (int[] s : STAGES) {
                total += (int) Math.ceil(s[5] * depth);
            }
            int id = 0;
            int in = first;
            for (int[] s : STAGES) {
                Sequential stage = features.add(new Sequential());
                int out = MobileNetV3.divisible(s[4] * width);
                int layers = (int) Math.ceil(s[5] * depth);
                for (int i = 0; i < layers; i++) {
                    stage.add(new MBConv(l, s[0], s[1], i == 0 ? s[2] : 1, in, out, STOCHASTIC_DEPTH * id / total));
                    in = out;
                    id++;
                }
            }
            channels = 4 * in;
            features.add(new ConvNormActivation(l, in, channels, 1, 1, 1, BatchNormSpec.TORCH, Activation.SILU));
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
            return map.getNDArrayInternal().globalAvgPool();
        }

        @Override
        protected OnnxGraph.Value exportOnnx(OnnxGraph g, OnnxGraph.Value x) {
            return g.flatten(g.globalPool(false, features.onnx(g, x)));
        }
    }

    /** {@code block = [expand 1x1 (if ratio > 1), depthwise, squeeze-excitation, project 1x1]}, stochastic depth on the residual. */
    static final class MBConv extends Module {
        private final Sequential block;
        private final boolean residual;
        private final double dropPath;
        private final Compute compute;

        MBConv(Layers l, int expandRatio, int kernel, int stride, int in, int out, double dropPath) {
            this.compute = l.compute();
            this.dropPath = dropPath;
            residual = stride == 1 && in == out;
            int expanded = MobileNetV3.divisible(in * (double) expandRatio);
            block = add("block", new Sequential());
            if (expanded != in) {
                block.add(new ConvNormActivation(l, in, expanded, 1, 1, 1, BatchNormSpec.TORCH, Activation.SILU));
            }
            block.add(new ConvNormActivation(l, expanded, expanded, kernel, stride, expanded, BatchNormSpec.TORCH, Activation.SILU));
            block.add(new SqueezeExcitation(l, expanded, Math.max(1, in / 4), Activation.SILU, Activation.SIGMOID));
            block.add(new ConvNormActivation(l, expanded, out, 1, 1, 1, BatchNormSpec.TORCH, Activation.IDENTITY));
        }

        @Override
        public NDArray apply(NDArray x, boolean training) {
            NDArray y = block.apply(x, training);
            if (!residual) {
                return y;
            }
            y = free(y, StochasticDepth.apply(compute, y, dropPath, training));
            return free(y, y.add(x));
        }

        /** Stochastic depth is the identity in evaluation. */
        @Override
        protected OnnxGraph.Value exportOnnx(OnnxGraph g, OnnxGraph.Value x) {
            OnnxGraph.Value y = block.onnx(g, x);
            return residual ? g.add(y, x) : y;
        }
    }
}
