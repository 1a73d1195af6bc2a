package dev.graft.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * ResNet with torchvision's structure and parameter names ({@code conv1.weight}, {@code layer1.0.bn1.running_mean},
 * ..., {@code fc.weight}), so a torchvision state_dict maps onto it by name. The body ends with global average
 * pooling and flattening; the classifier {@code fc} is the {@link Network}'s head.
 */
public final class ResNet {
    private ResNet() {
    }

    /** Blocks per stage and whether the stage uses bottlenecks, for depths 18, 34 and 50. */
    public static Network build(String arch, int numClasses, Layers layers) {
        int[] blocks;
        boolean bottleneck;
        switch (arch) {
            case "resnet18" -> { blocks = new int[] {2, 2, 2, 2}; bottleneck = false; }
            case "resnet34" -> { blocks = new int[] {3, 4, 6, 3}; bottleneck = false; }
            case "resnet50" -> { blocks = new int[] {3, 4, 6, 3}; bottleneck = true; }
            default -> throw new IllegalArgumentException("unknown ResNet '" + arch + "'");
        }
        Body body = new Body(blocks, bottleneck, layers);
        int features = 512 * (bottleneck ? 4 : 1);
        Map<String, Parameter> names = new LinkedHashMap<>();
        ParamNames.collect(body, "", ParamNames.TORCH, names);
        return new Network(arch, body, names, features, numClasses, "fc", layers);
    }

    static final class Body extends Module {
        private final Conv2d conv1;
        private final BatchNorm bn1;
        private final Module[] stages = new Module[4];
        private final BatchNormFolding folding;

        Body(int[] blocks, boolean bottleneck, Layers l) {
            conv1 = add("conv1", l.conv(3, 64, 7, 2, 3, 1, false));
            bn1 = add("bn1", l.batchNorm(64));
            folding = l.folding();
            folding.pair(conv1, bn1);
            int inplanes = 64;
            int[] planes = {64, 128, 256, 512};
            for (int s = 0; s < 4; s++) {
                Seq stage = new Seq();
                for (int b = 0; b < blocks[s]; b++) {
                    int stride = (b == 0 && s > 0) ? 2 : 1;
                    Module block = bottleneck
                            ? new Bottleneck(inplanes, planes[s], stride, l)
                            : new BasicBlock(inplanes, planes[s], stride, l);
                    stage.add(Integer.toString(b), block);
                    inplanes = planes[s] * (bottleneck ? 4 : 1);
                }
                stages[s] = add("layer" + (s + 1), stage);
            }
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
            NDArray a = folding.convBn(ps, conv1, bn1, inputs.singletonOrThrow(), training);
            a = free(a, a.getNDArrayInternal().relu());
            a = free(a, a.getNDArrayInternal().maxPool(new Shape(3, 3), new Shape(2, 2), new Shape(1, 1), false));
            for (Module stage : stages) {
                a = free(a, stage.forward(ps, new NDList(a), training).singletonOrThrow());
            }
            // AdaptiveAvgPool2d((1, 1)) then flatten
            return new NDList(free(a, a.getNDArrayInternal().globalAvgPool()));
        }
    }

    static final class BasicBlock extends Module {
        private final Conv2d conv1;
        private final BatchNorm bn1;
        private final Conv2d conv2;
        private final BatchNorm bn2;
        private final Seq downsample;
        private final BatchNormFolding folding;

        BasicBlock(int in, int planes, int stride, Layers l) {
            conv1 = add("conv1", l.conv(in, planes, 3, stride, 1, 1, false));
            bn1 = add("bn1", l.batchNorm(planes));
            conv2 = add("conv2", l.conv(planes, planes, 3, 1, 1, 1, false));
            bn2 = add("bn2", l.batchNorm(planes));
            folding = l.folding();
            folding.pair(conv1, bn1);
            folding.pair(conv2, bn2);
            downsample = (stride != 1 || in != planes) ? add("downsample", Seq.downsample(in, planes, stride, l)) : null;
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
            NDArray x = folding.convBn(ps, conv1, bn1, inputs.singletonOrThrow(), training);
            x = free(x, x.getNDArrayInternal().relu());
            x = free(x, folding.convBn(ps, conv2, bn2, x, training));
            return residual(ps, x, inputs, downsample, training);
        }
    }

    static final class Bottleneck extends Module {
        private final Conv2d conv1;
        private final BatchNorm bn1;
        private final Conv2d conv2;
        private final BatchNorm bn2;
        private final Conv2d conv3;
        private final BatchNorm bn3;
        private final Seq downsample;
        private final BatchNormFolding folding;

        Bottleneck(int in, int planes, int stride, Layers l) {
            int out = planes * 4;
            conv1 = add("conv1", l.conv(in, planes, 1, 1, 0, 1, false));
            bn1 = add("bn1", l.batchNorm(planes));
            conv2 = add("conv2", l.conv(planes, planes, 3, stride, 1, 1, false)); // stride on the 3x3, as torchvision
            bn2 = add("bn2", l.batchNorm(planes));
            conv3 = add("conv3", l.conv(planes, out, 1, 1, 0, 1, false));
            bn3 = add("bn3", l.batchNorm(out));
            folding = l.folding();
            folding.pair(conv1, bn1);
            folding.pair(conv2, bn2);
            folding.pair(conv3, bn3);
            downsample = (stride != 1 || in != out) ? add("downsample", Seq.downsample(in, out, stride, l)) : null;
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
            NDArray x = folding.convBn(ps, conv1, bn1, inputs.singletonOrThrow(), training);
            x = free(x, x.getNDArrayInternal().relu());
            x = free(x, folding.convBn(ps, conv2, bn2, x, training));
            x = free(x, x.getNDArrayInternal().relu());
            x = free(x, folding.convBn(ps, conv3, bn3, x, training));
            return residual(ps, x, inputs, downsample, training);
        }
    }

    /** relu(x + identity), freeing the intermediates. */
    static NDList residual(ParameterStore ps, NDArray x, NDList inputs, Seq downsample, boolean training) {
        NDArray identity = downsample == null ? inputs.singletonOrThrow() : downsample.forward(ps, inputs, training).singletonOrThrow();
        NDArray sum = free(x, x.add(identity));
        if (downsample != null) {
            identity.close();
        }
        return new NDList(free(sum, sum.getNDArrayInternal().relu()));
    }

    /**
     * Closes the handle of an activation once the next layer has used it, as PyTorch's refcounting frees it; DJL
     * would keep every activation to the end of the batch. Autograd holds its own reference to what backward needs.
     */
    static NDArray free(NDArray used, NDArray result) {
        used.close();
        return result;
    }

    /** A sequence of named children, like torch.nn.Sequential. */
    static final class Seq extends Module {
        private BatchNormFolding folding;
        private Conv2d conv;
        private BatchNorm bn;

        static Seq downsample(int in, int out, int stride, Layers l) {
            Seq s = new Seq();
            s.conv = s.add("0", l.conv(in, out, 1, stride, 0, 1, false));
            s.bn = s.add("1", l.batchNorm(out));
            s.folding = l.folding();
            s.folding.pair(s.conv, s.bn);
            return s;
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
            if (folding != null) {
                return new NDList(folding.convBn(ps, conv, bn, inputs.singletonOrThrow(), training));
            }
            NDList x = inputs;
            for (Block b : children.values()) {
                NDList next = b.forward(ps, x, training);
                if (x != inputs) {
                    x.close();
                }
                x = next;
            }
            return x;
        }
    }
}
