package dev.graft.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.graft.data.Preprocessing;
import dev.graft.data.Resample;
import dev.graft.model.nn.Activation;
import dev.graft.model.nn.Conv2d;
import dev.graft.model.nn.Init;
import dev.graft.model.nn.LayerNorm;
import dev.graft.model.nn.Layers;
import dev.graft.model.nn.Linear;
import dev.graft.model.nn.FeatureMap;
import dev.graft.model.nn.Module;
import dev.graft.model.nn.MultiheadAttention;
import dev.graft.model.nn.Ops;
import dev.graft.model.nn.Sequential;
import dev.graft.onnx.OnnxGraph;

import java.util.List;
import java.util.Map;

/**
 * torchvision's ViT-B/16 (Dosovitskiy et al. 2021): 16x16 patches projected by {@code conv_proj}, a class token,
 * learned position embeddings for 224x224 input, 12 pre-norm encoder layers (multi-head self-attention, GELU MLP),
 * a final LayerNorm; the class token's output is the feature vector and {@code heads.head} the head.
 */
public final class VisionTransformer extends TorchvisionModel {
    private final int patch;
    private final int layers;
    private final int heads;
    private final int dim;
    private final int mlp;

    private VisionTransformer(String name, String file, int patch, int layers, int heads, int dim, int mlp, Preprocessing pre, ModelCard card) {
        super(name, file, "heads.head", pre, card);
        this.patch = patch;
        this.layers = layers;
        this.heads = heads;
        this.dim = dim;
        this.mlp = mlp;
    }

    static List<Architecture> variants() {
        return List.of(new VisionTransformer("vit_b_16", "vit_b_16-c867db91.pth", 16, 12, 12, 768, 3072,
                Preprocessing.torchvision(256, 224, Resample.Filter.BILINEAR), new ModelCard(86_567_656, 17.56, 224, 81.072, LICENSE)));
    }

    @Override
    public Body build(Layers l) {
        return Body.of(new Trunk(l, this, weights().preprocessing().crop()), dim, 0f);
    }

    /**
     * torchvision's init: conv_proj trunc_normal_(std sqrt(1/fan_in)), class token zeros, position embeddings
     * N(0, 0.02), attention in_proj xavier_uniform_ with zero bias, out_proj nn.Linear's default with zero bias, MLP
     * xavier_uniform_ with N(0, 1e-6) biases, LayerNorms 1 and 0, and the head zeros.
     */
    @Override
    public void initScratch(Network net, long seed) {
        Init init = new Init(seed);
        for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
            String k = e.getKey();
            Parameter p = e.getValue();
            if (k.equals("conv_proj.weight")) {
                init.truncNormal(p, Math.sqrt(1.0 / (3 * patch * patch)));
            } else if (k.equals("encoder.pos_embedding")) {
                init.normal(p, 0.02);
            } else if (k.endsWith("in_proj_weight") || (k.contains(".mlp.") && k.endsWith(".weight"))) {
                init.xavierUniform(p);
            } else if (k.endsWith("out_proj.weight")) {
                init.torchDefault(p, dim);
            } else if (k.contains(".mlp.") && k.endsWith(".bias")) {
                init.normal(p, 1e-6);
            } else if (k.contains(".ln") && k.endsWith(".weight")) {
                Init.constant(p, 1f);
            } else {
                Init.constant(p, 0f); // biases, class token, the head
            }
        }
    }

    static final class Trunk extends Module implements FeatureMap {
        private final Parameter classToken;
        private final Conv2d proj;
        private final Encoder encoder;
        private final int patch;
        private final int dim;
        private final int size;

        Trunk(Layers l, VisionTransformer v, int size) {
            this.patch = v.patch;
            this.dim = v.dim;
            this.size = size;
            classToken = add(l.parameter("class_token", true, new Shape(1, 1, v.dim)));
            proj = add("conv_proj", l.conv(3, v.dim, v.patch, v.patch, v.patch, v.patch, 0, 0, 1, 1, true));
            int tokens = (size / v.patch) * (size / v.patch) + 1;
            encoder = add("encoder", new Encoder(l, tokens, v));
        }

        /** The last encoder block's tokens, class token first. */
        @Override
        public NDArray featureMap(NDArray x, boolean training) {
            long n = x.getShape().get(0);
            if (x.getShape().get(2) != size || x.getShape().get(3) != size) {
                throw new IllegalArgumentException("vit_b_16 takes " + size + "x" + size + " images (its position embeddings are for "
                        + (size / patch) + "x" + (size / patch) + " patches), not " + x.getShape().get(2) + "x" + x.getShape().get(3)
                        + "; leave --image-size at its default");
            }
            NDArray p = proj.apply(x, training);
            NDArray tokens = free(p, p.reshape(n, dim, -1).transpose(0, 2, 1));
            try (NDArray cls = Ops.like(classToken.getArray(), tokens)) {
                NDArray seq = NDArrays.concat(new NDList(cls.broadcast(n, 1, dim), tokens), 1);
                tokens.close();
                return free(seq, encoder.blocks(seq, training));
            }
        }

        @Override
        public NDArray apply(NDArray x, boolean training) {
            return FeatureMap.apply(this, x, training);
        }

        /** Patches, class token, position embeddings, the encoder, the class token after the final LayerNorm. */
        @Override
        protected OnnxGraph.Value exportOnnx(OnnxGraph g, OnnxGraph.Value x) {
            if (x.dim(2) != size || x.dim(3) != size) {
                throw g.unsupported(this, "vit_b_16 takes " + size + "x" + size + " images, not " + x.dim(2) + "x" + x.dim(3));
            }
            OnnxGraph.Value p = proj.onnx(g, x);
            OnnxGraph.Value tokens = g.transpose(g.reshapeBatch(p, dim, -1), 0, 2, 1);
            OnnxGraph.Value cls = g.expandToBatch(g.weight("class_token", classToken.getArray().toFloatArray(), 1, 1, dim), tokens);
            OnnxGraph.Value seq = g.concat(1, List.of(cls, tokens));
            return g.select(encoder.onnx(g, seq), 1, 0);
        }

        /** The class token after the encoder's final LayerNorm. */
        @Override
        public NDArray pool(NDArray tokens, boolean training) {
            NDArray out = encoder.ln.apply(tokens, training);
            return free(out, out.get(":, 0"));
        }
    }

    /** {@code encoder = [pos_embedding, layers.encoder_layer_i, ln]}. */
    static final class Encoder extends Module {
        private final Parameter position;
        private final Sequential layers;
        final LayerNorm ln;

        Encoder(Layers l, int tokens, VisionTransformer v) {
            position = add(l.parameter("pos_embedding", true, new Shape(1, tokens, v.dim)));
            layers = add("layers", new Sequential());
            for (int i = 0; i < v.layers; i++) {
                layers.add("encoder_layer_" + i, new EncoderBlock(l, v));
            }
            ln = add("ln", l.layerNorm(v.dim, 1e-6));
        }

        @Override
        public NDArray apply(NDArray x, boolean training) {
            NDArray h = blocks(x, training);
            return free(h, ln.apply(h, training));
        }

        @Override
        protected OnnxGraph.Value exportOnnx(OnnxGraph g, OnnxGraph.Value x) {
            OnnxGraph.Value h = g.add(x, g.weight("pos_embedding", position.getArray().toFloatArray(), position.getArray().getShape().getShape()));
            return ln.onnx(g, layers.onnx(g, h));
        }

        /** Position embeddings and the encoder blocks, before the final LayerNorm. */
        NDArray blocks(NDArray x, boolean training) {
            NDArray h;
            try (NDArray pos = Ops.like(position.getArray(), x)) {
                h = x.add(pos);
            }
            return free(h, layers.apply(h, training));
        }
    }

    /** x + attention(ln_1(x)), then + mlp(ln_2(.)) with mlp = {@code [Linear "0", GELU, Dropout, Linear "3", Dropout]}. */
    static final class EncoderBlock extends Module {
        private final LayerNorm ln1;
        private final MultiheadAttention attention;
        private final LayerNorm ln2;
        private final Linear fc1;
        private final Linear fc2;

        EncoderBlock(Layers l, VisionTransformer v) {
            ln1 = add("ln_1", l.layerNorm(v.dim, 1e-6));
            attention = add("self_attention", l.attention(v.dim, v.heads));
            ln2 = add("ln_2", l.layerNorm(v.dim, 1e-6));
            Sequential mlp = add("mlp", new Sequential());
            fc1 = mlp.add("0", l.linear(v.dim, v.mlp, true));
            fc2 = mlp.add("3", l.linear(v.mlp, v.dim, true));
        }

        @Override
        public NDArray apply(NDArray input, boolean training) {
            NDArray a = ln1.apply(input, training);
            a = free(a, attention.apply(a, training));
            NDArray x = free(a, a.add(input));
            NDArray y = ln2.apply(x, training);
            y = free(y, fc1.apply(y, training));
            y = free(y, Activation.GELU.apply(y));
            y = free(y, fc2.apply(y, training));
            return free(y, free(x, y.add(x)));
        }

        @Override
        protected OnnxGraph.Value exportOnnx(OnnxGraph g, OnnxGraph.Value input) {
            OnnxGraph.Value x = g.add(attention.onnx(g, ln1.onnx(g, input)), input);
            OnnxGraph.Value y = fc2.onnx(g, Activation.GELU.onnx(g, fc1.onnx(g, ln2.onnx(g, x))));
            return g.add(y, x);
        }
    }
}
