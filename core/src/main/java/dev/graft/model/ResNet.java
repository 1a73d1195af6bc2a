package dev.graft.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.graft.data.Preprocessing;
import dev.graft.model.nn.Activation;
import dev.graft.model.nn.BatchNorm2d;
import dev.graft.model.nn.Conv2d;
import dev.graft.model.nn.Init;
import dev.graft.model.nn.Layers;
import dev.graft.model.nn.FeatureMap;
import dev.graft.model.nn.Module;
import dev.graft.model.nn.Sequential;
import dev.graft.onnx.OnnxGraph;

import java.util.List;
import java.util.Map;

/**
 * torchvision's ResNet-18/34/50 (He et al. 2015), the book's source model, with torchvision's structure and
 * parameter names ({@code conv1.weight}, {@code layer1.0.bn1.running_mean}, ..., {@code fc.weight}). The body ends
 * with global average pooling; the classifier {@code fc} is the head.
 */
public final class ResNet extends TorchvisionModel {
    private final int[] blocks;
    private final boolean bottleneck;

    private ResNet(String name, String file, int[] blocks, boolean bottleneck, ModelCard card) {
        // the book's test transform: Resize([256, 256]), CenterCrop(224), ImageNet mean/std
        super(name, file, "fc", Preprocessing.imagenet(), card);
        this.blocks = blocks;
        this.bottleneck = bottleneck;
    }

    static List<Architecture> variants() {
        String bsd = LICENSE;
        return List.of(
                new ResNet("resnet18", "resnet18-f37072fd.pth", new int[] {2, 2, 2, 2}, false, new ModelCard(11_689_512, 1.81, 224, 69.758, bsd)),
                new ResNet("resnet34", "resnet34-b627a593.pth", new int[] {3, 4, 6, 3}, false, new ModelCard(21_797_672, 3.66, 224, 73.314, bsd)),
                new ResNet("resnet50", "resnet50-0676ba61.pth", new int[] {3, 4, 6, 3}, true, new ModelCard(25_557_032, 4.09, 224, 76.13, bsd)));
    }

    @Override
    public Body build(Layers l) {
        return Body.of(new Trunk(l, blocks, bottleneck), 512 * (bottleneck ? 4 : 1), 0f);
    }

    /**
     * torchvision's init: convolutions kaiming_normal_(mode="fan_out", nonlinearity="relu"), BatchNorm weight 1
     * and bias 0, and the classifier as nn.Linear's default.
     */
    @Override
    public void initScratch(Network net, long seed) {
        Init init = new Init(seed);
        for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
            long[] s = Init.shape(e.getValue());
            String k = e.getKey();
            if (k.startsWith("fc.")) {
                init.torchDefault(e.getValue(), net.featureDim());
            } else if (s.length == 4) {
                init.kaimingNormalFanOut(e.getValue());
            } else if (k.endsWith("running_var") || k.endsWith(".weight")) {
                Init.constant(e.getValue(), 1f);
            } else {
                Init.constant(e.getValue(), 0f);
            }
        }
    }

    /** conv1, bn1, relu, maxpool, layer1..layer4, avgpool, flatten. */
    static final class Trunk extends Module implements FeatureMap {
        private final Conv2d conv1;
        private final BatchNorm2d bn1;
        private final Sequential[] stages = new Sequential[4];

        Trunk(Layers l, int[] blocks, boolean bottleneck) {
            conv1 = add("conv1", l.conv(3, 64, 7, 2, 3, 1, false));
            bn1 = add("bn1", l.batchNorm(64));
            l.compute().pairForFolding(conv1, bn1);
            int inplanes = 64;
            int[] planes = {64, 128, 256, 512};
            for (int s = 0; s < 4; s++) {
                Sequential stage = new Sequential();
                for (int b = 0; b < blocks[s]; b++) {
                    int stride = (b == 0 && s > 0) ? 2 : 1;
                    stage.add(bottleneck ? new Bottleneck(inplanes, planes[s], stride, l) : new BasicBlock(inplanes, planes[s], stride, l));
                    inplanes = planes[s] * (bottleneck ? 4 : 1);
                }
                stages[s] = add("layer" + (s + 1), stage);
            }
        }

        @Override
        public NDArray apply(NDArray x, boolean training) {
            return FeatureMap.apply(this, x, training);
        }

        @Override
        public NDArray featureMap(NDArray x, boolean training) {
            NDArray a = bn1.apply(conv1.apply(x, training), training);
            a = Activation.RELU.applyInPlace(a); // the BatchNorm output: nothing else reads it, nor does its backward
            a = Module.free(a, a.getNDArrayInternal().maxPool(new Shape(3, 3), new Shape(2, 2), new Shape(1, 1), false));
            for (Sequential stage : stages) {
                a = Module.free(a, stage.apply(a, training));
            }
            return a;
        }

        @Override
        public NDArray pool(NDArray map, boolean training) {
            // AdaptiveAvgPool2d((1, 1)) then flatten
            return map.getNDArrayInternal().globalAvgPool();
        }

        @Override
        protected OnnxGraph.Value exportOnnx(OnnxGraph g, OnnxGraph.Value x) {
            OnnxGraph.Value a = g.unary("Relu", bn1.onnx(g, conv1.onnx(g, x)));
            a = g.pool(true, a, new long[] {3, 3}, new long[] {2, 2}, new long[] {1, 1, 1, 1});
            for (Sequential stage : stages) {
                a = stage.onnx(g, a);
            }
            return g.flatten(g.globalPool(false, a));
        }
    }

    /** conv-bn pairs of a residual block; a pair's BatchNorm folds into its conv for inference. */
    static NDArray convBn(Conv2d conv, BatchNorm2d bn, NDArray x, boolean training) {
        NDArray y = conv.apply(x, training);
        return Module.free(y, bn.apply(y, training));
    }

    static final class BasicBlock extends Module {
        private final Conv2d conv1;
        private final BatchNorm2d bn1;
        private final Conv2d conv2;
        private final BatchNorm2d bn2;
        private final Downsample downsample;

        BasicBlock(int in, int planes, int stride, Layers l) {
            conv1 = add("conv1", l.conv(in, planes, 3, stride, 1, 1, false));
            bn1 = add("bn1", l.batchNorm(planes));
            conv2 = add("conv2", l.conv(planes, planes, 3, 1, 1, 1, false));
            bn2 = add("bn2", l.batchNorm(planes));
            l.compute().pairForFolding(conv1, bn1);
            l.compute().pairForFolding(conv2, bn2);
            downsample = (stride != 1 || in != planes) ? add("downsample", new Downsample(in, planes, stride, l)) : null;
        }

        @Override
        public NDArray apply(NDArray in, boolean training) {
            NDArray x = convBn(conv1, bn1, in, training);
            x = Activation.RELU.applyInPlace(x); // as torchvision's ReLU(inplace=True): nothing else reads it
            x = Module.free(x, convBn(conv2, bn2, x, training));
            return residual(x, in, downsample, training);
        }

        @Override
        protected OnnxGraph.Value exportOnnx(OnnxGraph g, OnnxGraph.Value in) {
            OnnxGraph.Value x = g.unary("Relu", bn1.onnx(g, conv1.onnx(g, in)));
            return residualOnnx(g, bn2.onnx(g, conv2.onnx(g, x)), in, downsample);
        }
    }

    static final class Bottleneck extends Module {
        private final Conv2d conv1;
        private final BatchNorm2d bn1;
        private final Conv2d conv2;
        private final BatchNorm2d bn2;
        private final Conv2d conv3;
        private final BatchNorm2d bn3;
        private final Downsample downsample;

        Bottleneck(int in, int planes, int stride, Layers l) {
            int out = planes * 4;
            conv1 = add("conv1", l.conv(in, planes, 1, 1, 0, 1, false));
            bn1 = add("bn1", l.batchNorm(planes));
            conv2 = add("conv2", l.conv(planes, planes, 3, stride, 1, 1, false)); // stride on the 3x3, as torchvision
            bn2 = add("bn2", l.batchNorm(planes));
            conv3 = add("conv3", l.conv(planes, out, 1, 1, 0, 1, false));
            bn3 = add("bn3", l.batchNorm(out));
            l.compute().pairForFolding(conv1, bn1);
            l.compute().pairForFolding(conv2, bn2);
            l.compute().pairForFolding(conv3, bn3);
            downsample = (stride != 1 || in != out) ? add("downsample", new Downsample(in, out, stride, l)) : null;
        }

        @Override
        public NDArray apply(NDArray in, boolean training) {
            NDArray x = convBn(conv1, bn1, in, training);
            x = Activation.RELU.applyInPlace(x); // as torchvision's ReLU(inplace=True): nothing else reads it
            x = Module.free(x, convBn(conv2, bn2, x, training));
            x = Activation.RELU.applyInPlace(x); // as torchvision's ReLU(inplace=True): nothing else reads it
            x = Module.free(x, convBn(conv3, bn3, x, training));
            return residual(x, in, downsample, training);
        }

        @Override
        protected OnnxGraph.Value exportOnnx(OnnxGraph g, OnnxGraph.Value in) {
            OnnxGraph.Value x = g.unary("Relu", bn1.onnx(g, conv1.onnx(g, in)));
            x = g.unary("Relu", bn2.onnx(g, conv2.onnx(g, x)));
            return residualOnnx(g, bn3.onnx(g, conv3.onnx(g, x)), in, downsample);
        }
    }

    /** relu(x + identity) in ONNX. */
    static OnnxGraph.Value residualOnnx(OnnxGraph g, OnnxGraph.Value x, OnnxGraph.Value in, Downsample downsample) {
        return g.unary("Relu", g.add(x, downsample == null ? in : downsample.onnx(g, in)));
    }

    /**
     * relu(x + identity) into x, as torchvision's {@code out += identity; out = relu(out)}: x is the last BatchNorm's
     * output, which nothing else reads (nor does its backward, nor the add's), and ReLU's backward reads its output
     * (ResNet-18, batch 64: ReLU and add 51 -> 32 ms per inference batch; peak RSS 4-6% lower in training and inference).
     */
    static NDArray residual(NDArray x, NDArray in, Downsample downsample, boolean training) {
        NDArray identity = downsample == null ? in : downsample.apply(in, training);
        x.addi(identity);
        if (downsample != null) {
            identity.close();
        }
        return Activation.RELU.applyInPlace(x);
    }

    /** downsample = Sequential(conv1x1 "0", BatchNorm "1"). */
    static final class Downsample extends Module {
        private final Conv2d conv;
        private final BatchNorm2d bn;

        Downsample(int in, int out, int stride, Layers l) {
            conv = add("0", l.conv(in, out, 1, stride, 0, 1, false));
            bn = add("1", l.batchNorm(out));
            l.compute().pairForFolding(conv, bn);
        }

        @Override
        public NDArray apply(NDArray x, boolean training) {
            return convBn(conv, bn, x, training);
        }

        @Override
        protected OnnxGraph.Value exportOnnx(OnnxGraph g, OnnxGraph.Value x) {
            return bn.onnx(g, conv.onnx(g, x));
        }
    }
}
