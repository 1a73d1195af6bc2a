package dev.graft.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import dev.graft.data.Preprocessing;
import dev.graft.data.Resample;
import dev.graft.model.nn.Activation;
import dev.graft.model.nn.BatchNorm2d;
import dev.graft.model.nn.Conv2d;
import dev.graft.model.nn.ConvNormActivation;
import dev.graft.model.nn.ConvNormActivation.BatchNormSpec;
import dev.graft.model.nn.Init;
import dev.graft.model.nn.Layers;
import dev.graft.model.nn.FeatureMap;
import dev.graft.model.nn.Module;
import dev.graft.model.nn.Sequential;
import dev.graft.onnx.OnnxGraph;

import java.util.List;
import java.util.Map;

/**
 * torchvision's MobileNetV2 (Sandler et al. 2018): inverted residual blocks with linear bottlenecks, ReLU6;
 * {@code features.*} then {@code classifier = [Dropout(0.2), Linear(1280, classes)]}, whose Linear is the head.
 */
public final class MobileNetV2 extends TorchvisionModel {
    /** t (expansion), c (channels), n (blocks), s (stride of the first), as in the paper's Table 2. */
    static final int[][] SETTING = {{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};

    private MobileNetV2() {
        super("mobilenet_v2", "mobilenet_v2-7ebf99e0.pth", "classifier.1", Preprocessing.torchvision(232, 224, Resample.Filter.BILINEAR),
                new ModelCard(3_504_872, 0.30, 224, 72.154, TorchvisionModel.LICENSE));
    }

    static List<Architecture> variants() {
        return List.of(new MobileNetV2());
    }

    @Override
    public Body build(Layers l) {
        return Body.of(new Trunk(l), 1280, 0.2f);
    }

    /** torchvision's init: conv kaiming_normal_(fan_out), BatchNorm 1 and 0, Linear N(0, 0.01) and zero bias. */
    @Override
    public void initScratch(Network net, long seed) {
        Init init = new Init(seed);
        for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
            String k = e.getKey();
            long[] s = Init.shape(e.getValue());
            if (s.length == 4) {
                init.kaimingNormalFanOut(e.getValue());
            } else if (k.startsWith("classifier.") && k.endsWith(".weight")) {
                init.normal(e.getValue(), 0.01);
            } else {
                Init.constant(e.getValue(), k.endsWith("running_var") || k.endsWith(".weight") ? 1f : 0f);
            }
        }
    }

    /** {@code features}, then average pooling to the 1280 features. */
    static final class Trunk extends Module implements FeatureMap {
        private final Sequential features;

        Trunk(Layers l) {
            features = add("features", new Sequential());
            int in = 32;
            features.add(new ConvNormActivation(l, 3, in, 3, 2, 1, BatchNormSpec.TORCH, Activation.RELU6));
            for (int[] row : SETTING) {
                for (int i = 0; i < row[2]; i++) {
                    features.add(new InvertedResidual(l, in, row[1], i == 0 ? row[3] : 1, row[0]));
                    in = row[1];
                }
            }
            features.add(new ConvNormActivation(l, in, 1280, 1, 1, 1, BatchNormSpec.TORCH, Activation.RELU6));
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

    /** {@code conv = [expand 1x1 (if t != 1), depthwise 3x3, project 1x1, BatchNorm]}, plus the input when shapes allow. */
    static final class InvertedResidual extends Module {
        private final Sequential conv;
        private final boolean residual;

        InvertedResidual(Layers l, int in, int out, int stride, int expand) {
            int hidden = Math.round(in * (float) expand);
            residual = stride == 1 && in == out;
            conv = add("conv", new Sequential());
            if (expand != 1) {
                conv.add(new ConvNormActivation(l, in, hidden, 1, 1, 1, BatchNormSpec.TORCH, Activation.RELU6));
            }
            conv.add(new ConvNormActivation(l, hidden, hidden, 3, stride, hidden, BatchNormSpec.TORCH, Activation.RELU6));
            Conv2d project = conv.add(l.conv(hidden, out, 1, 1, 0, 1, false));
            BatchNorm2d bn = conv.add(l.batchNorm(out));
            l.compute().pairForFolding(project, bn);
        }

        @Override
        public NDArray apply(NDArray x, boolean training) {
            NDArray y = conv.apply(x, training);
            return residual ? free(y, y.add(x)) : y;
        }

        @Override
        protected OnnxGraph.Value exportOnnx(OnnxGraph g, OnnxGraph.Value x) {
            OnnxGraph.Value y = conv.onnx(g, x);
            return residual ? g.add(y, x) : y;
        }
    }
}
