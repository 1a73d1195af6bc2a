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
import dev.graft.model.nn.FeatureMap;
import dev.graft.model.nn.Module;
import dev.graft.model.nn.Sequential;
import dev.graft.model.nn.SqueezeExcitation;
import dev.graft.onnx.OnnxGraph;

import java.util.List;
import java.util.Map;

/**
 * torchvision's RegNetY-800MF (Radosavovic et al. 2020): a stem, then stages of residual bottlenecks with grouped
 * 3x3 convolutions (group width 16) and squeeze-and-excitation (ratio 0.25 of the block's input width);
 * {@code stem}, {@code trunk_output.blockS.blockS-i}, pooling, and the head {@code fc}. The stage widths and depths
 * are those torchvision derives from depth 14, w_0 56, w_a 38.84, w_m 2.4.
 */
public final class RegNet extends TorchvisionModel {
    private final int[] depths;
    private final int[] widths;
    private final int groupWidth;
    private final double seRatio;

    private RegNet(String name, String file, int[] depths, int[] widths, int groupWidth, double seRatio, Preprocessing pre, ModelCard card) {
        super(name, file, "fc", pre, card);
        this.depths = depths;
        this.widths = widths;
        this.groupWidth = groupWidth;
        this.seRatio = seRatio;
    }

    static List<Architecture> variants() {
        return List.of(new RegNet("regnet_y_800mf", "regnet_y_800mf-58fc7688.pth", new int[] {1, 3, 8, 2}, new int[] {64, 144, 320, 784},
                16, 0.25, Preprocessing.torchvision(232, 224, Resample.Filter.BILINEAR), new ModelCard(6_432_512, 0.83, 224, 78.828, LICENSE)));
    }

    @Override
    public Body build(Layers l) {
        return Body.of(new Trunk(l, this), widths[widths.length - 1], 0f);
    }

    /** torchvision's init: conv N(0, sqrt(2 / fan_out)), BatchNorm 1 and 0, Linear N(0, 0.01) with zero bias. */
    @Override
    public void initScratch(Network net, long seed) {
        Init init = new Init(seed);
        for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
            String k = e.getKey();
            long[] s = Init.shape(e.getValue());
            if (s.length == 4) {
                init.kaimingNormalFanOut(e.getValue());
            } else if (s.length == 2) {
                init.normal(e.getValue(), 0.01);
            } else {
                boolean bnScale = k.endsWith(".weight") && !k.startsWith("fc.");
                Init.constant(e.getValue(), k.endsWith("running_var") || bnScale ? 1f : 0f);
            }
        }
    }

    static final class Trunk extends Module implements FeatureMap {
        private final ConvNormActivation stem;
        private final Sequential trunk;

        Trunk(Layers l, RegNet r) {
            stem = add("stem", new ConvNormActivation(l, 3, 32, 3, 2, 1, BatchNormSpec.TORCH, Activation.RELU));
            trunk = add("trunk_output", new Sequential());
            int in = 32;
            for (int s = 0; s < r.depths.length; s++) {
                Sequential stage = trunk.add("block" + (s + 1), new Sequential());
                for (int i = 0; i < r.depths[s]; i++) {
                    stage.add("block" + (s + 1) + "-" + i, new ResBottleneck(l, in, r.widths[s], i == 0 ? 2 : 1, r.groupWidth, r.seRatio));
                    in = r.widths[s];
                }
            }
        }

        @Override
        public NDArray apply(NDArray x, boolean training) {
            return FeatureMap.apply(this, x, training);
        }

        @Override
        public NDArray featureMap(NDArray x, boolean training) {
            NDArray a = stem.apply(x, training);
            return free(a, trunk.apply(a, training));
        }

        @Override
        public NDArray pool(NDArray map, boolean training) {
            return map.getNDArrayInternal().globalAvgPool();
        }

        @Override
        protected OnnxGraph.Value exportOnnx(OnnxGraph g, OnnxGraph.Value x) {
            return g.flatten(g.globalPool(false, trunk.onnx(g, stem.onnx(g, x))));
        }
    }

    /** relu(proj(x) + f(x)), f = {@code [a 1x1, b grouped 3x3, se, c 1x1]}; proj only when the shape changes. */
    static final class ResBottleneck extends Module {
        private final ConvNormActivation proj;
        private final Sequential f;

        ResBottleneck(Layers l, int in, int out, int stride, int groupWidth, double seRatio) {
            proj = in != out || stride != 1 ? add("proj", new ConvNormActivation(l, in, out, 1, stride, 1, BatchNormSpec.TORCH,
                    Activation.IDENTITY)) : null;
            f = add("f", new Sequential());
            f.add("a", new ConvNormActivation(l, in, out, 1, 1, 1, BatchNormSpec.TORCH, Activation.RELU));
            f.add("b", new ConvNormActivation(l, out, out, 3, stride, out / groupWidth, BatchNormSpec.TORCH, Activation.RELU));
            f.add("se", new SqueezeExcitation(l, out, (int) Math.round(seRatio * in), Activation.RELU, Activation.SIGMOID));
            f.add("c", new ConvNormActivation(l, out, out, 1, 1, 1, BatchNormSpec.TORCH, Activation.IDENTITY));
        }

        @Override
        public NDArray apply(NDArray x, boolean training) {
            NDArray y = f.apply(x, training);
            NDArray shortcut = proj == null ? x : proj.apply(x, training);
            NDArray sum = free(y, y.add(shortcut));
            if (shortcut != x) {
                shortcut.close();
            }
            return free(sum, Activation.RELU.apply(sum));
        }

        @Override
        protected OnnxGraph.Value exportOnnx(OnnxGraph g, OnnxGraph.Value x) {
            OnnxGraph.Value y = f.onnx(g, x);
            return g.unary("Relu", g.add(y, proj == null ? x : proj.onnx(g, x)));
        }
    }
}
