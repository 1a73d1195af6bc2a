package dev.graft.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import dev.graft.data.Preprocessing;
import dev.graft.data.Resample;
import dev.graft.model.nn.Activation;
import dev.graft.model.nn.ConvNormActivation;
import dev.graft.model.nn.ConvNormActivation.BatchNormSpec;
import dev.graft.model.nn.Init;
import dev.graft.model.nn.Layers;
import dev.graft.model.nn.Linear;
import dev.graft.model.nn.FeatureMap;
import dev.graft.model.nn.Module;
import dev.graft.model.nn.Sequential;
import dev.graft.model.nn.SqueezeExcitation;
import dev.graft.onnx.OnnxGraph;

import java.util.List;
import java.util.Map;

/**
 * torchvision's MobileNetV3 small and large (Howard et al. 2019): inverted residuals with squeeze-and-excitation
 * (hardsigmoid gate) and Hardswish; {@code features.*}, pooling, then {@code classifier = [Linear, Hardswish,
 * Dropout(0.2), Linear]}. The first Linear and its Hardswish belong to the body; the last Linear is the head.
 */
public final class MobileNetV3 extends TorchvisionModel {
    /** BatchNorm2d(eps=0.001, momentum=0.01), as torchvision builds MobileNetV3. */
    static final BatchNormSpec NORM = new BatchNormSpec(1e-3f, 0.01f);

    /** in, kernel, expanded, out, squeeze-excitation, hardswish (else ReLU), stride: torchvision's table (Table 1/2 of the paper). */
    static final int[][] LARGE = {{16, 3, 16, 16, 0, 0, 1}, {16, 3, 64, 24, 0, 0, 2}, {24, 3, 72, 24, 0, 0, 1}, {24, 5, 72, 40, 1, 0, 2},
        {40, 5, 120, 40, 1, 0, 1}, {40, 5, 120, 40, 1, 0, 1}, {40, 3, 240, 80, 0, 1, 2}, {80, 3, 200, 80, 0, 1, 1},
        {80, 3, 184, 80, 0, 1, 1}, {80, 3, 184, 80, 0, 1, 1}, {80, 3, 480, 112, 1, 1, 1}, {112, 3, 672, 112, 1, 1, 1},
        {112, 5, 672, 160, 1, 1, 2}, {160, 5, 960, 160, 1, 1, 1}, {160, 5, 960, 160, 1, 1, 1}};
    static final int[][] SMALL = {{16, 3, 16, 16, 1, 0, 2}, {16, 3, 72, 24, 0, 0, 2}, {24, 3, 88, 24, 0, 0, 1}, {24, 5, 96, 40, 1, 1, 2},
        {40, 5, 240, 40, 1, 1, 1}, {40, 5, 240, 40, 1, 1, 1}, {40, 5, 120, 48, 1, 1, 1}, {48, 5, 144, 48, 1, 1, 1},
        {48, 5, 288, 96, 1, 1, 2}, {96, 5, 576, 96, 1, 1, 1}, {96, 5, 576, 96, 1, 1, 1}};

    private final int[][] setting;
    private final int lastChannel;

    private MobileNetV3(String name, String file, int[][] setting, int lastChannel, Preprocessing pre, ModelCard card) {
        super(name, file, "classifier.3", pre, card);
        this.setting = setting;
        this.lastChannel = lastChannel;
    }

    static List<Architecture> variants() {
        return List.of(
                new MobileNetV3("mobilenet_v3_small", "mobilenet_v3_small-047dcff4.pth", SMALL, 1024,
                        Preprocessing.torchvision(256, 224, Resample.Filter.BILINEAR), new ModelCard(2_542_856, 0.06, 224, 67.668, LICENSE)),
                new MobileNetV3("mobilenet_v3_large", "mobilenet_v3_large-5c1a4163.pth", LARGE, 1280,
                        Preprocessing.torchvision(232, 224, Resample.Filter.BILINEAR), new ModelCard(5_483_032, 0.22, 224, 75.274, LICENSE)));
    }

    @Override
    public Body build(Layers l) {
        return Body.of(new Trunk(l, setting, lastChannel), lastChannel, 0.2f);
    }

    /** torchvision's init: conv kaiming_normal_(fan_out) with zero bias, BatchNorm 1 and 0, Linear N(0, 0.01) and zero bias. */
    @Override
    public void initScratch(Network net, long seed) {
        Init init = new Init(seed);
        for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
            String k = e.getKey();
            long[] s = Init.shape(e.getValue());
            if (s.length == 4) {
                init.kaimingNormalFanOut(e.getValue());
            } else if (k.startsWith("classifier.") && s.length == 2) {
                init.normal(e.getValue(), 0.01);
            } else {
                boolean bnScale = k.endsWith(".weight") && !k.startsWith("classifier.");
                Init.constant(e.getValue(), k.endsWith("running_var") || bnScale ? 1f : 0f);
            }
        }
    }

    /** torchvision's _make_divisible: the nearest multiple of 8, never below 90% of the value. */
    static int divisible(double v) {
        int n = Math.max(8, (int) (v + 4) / 8 * 8);
        return n < 0.9 * v ? n + 8 : n;
    }

    static final class Trunk extends Module implements FeatureMap {
        private final Sequential features;
        private final Linear fc;

        Trunk(Layers l, int[][] setting, int lastChannel) {
            features = add("features", new Sequential());
            features.add(new ConvNormActivation(l, 3, setting[0][0], 3, 2, 1, NORM, Activation.HARDSWISH));
            for (int[] c : setting) {
                features.add(new InvertedResidual(l, c));
            }
            int lastIn = setting[setting.length - 1][3];
            features.add(new ConvNormActivation(l, lastIn, 6 * lastIn, 1, 1, 1, NORM, Activation.HARDSWISH));
            Sequential classifier = add("classifier", new Sequential());
            fc = classifier.add(l.linear(6 * lastIn, lastChannel, true));
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
            a = free(a, fc.apply(a, training));
            return free(a, Activation.HARDSWISH.apply(a));
        }

        @Override
        protected OnnxGraph.Value exportOnnx(OnnxGraph g, OnnxGraph.Value x) {
            OnnxGraph.Value a = g.flatten(g.globalPool(false, features.onnx(g, x)));
            return Activation.HARDSWISH.onnx(g, fc.onnx(g, a));
        }
    }

    /** {@code block = [expand (if wider), depthwise, squeeze-excitation (if used), project (no activation)]} (+ input). */
    static final class InvertedResidual extends Module {
        private final Sequential block;
        private final boolean residual;

        InvertedResidual(Layers l, int[] c) {
            int in = c[0];
            int kernel = c[1];
            int expanded = c[2];
            int out = c[3];
            Activation act = c[5] == 1 ? Activation.HARDSWISH : Activation.RELU;
            int stride = c[6];
            residual = stride == 1 && in == out;
            block = add("block", new Sequential());
            if (expanded != in) {
                block.add(new ConvNormActivation(l, in, expanded, 1, 1, 1, NORM, act));
            }
            block.add(new ConvNormActivation(l, expanded, expanded, kernel, stride, expanded, NORM, act));
            if (c[4] == 1) {
                block.add(new SqueezeExcitation(l, expanded, divisible(expanded / 4), Activation.RELU, Activation.HARDSIGMOID));
            }
            block.add(new ConvNormActivation(l, expanded, out, 1, 1, 1, NORM, Activation.IDENTITY));
        }

        @Override
        public NDArray apply(NDArray x, boolean training) {
            NDArray y = block.apply(x, training);
            return residual ? free(y, y.add(x)) : y;
        }

        @Override
        protected OnnxGraph.Value exportOnnx(OnnxGraph g, OnnxGraph.Value x) {
            OnnxGraph.Value y = block.onnx(g, x);
            return residual ? g.add(y, x) : y;
        }
    }
}
