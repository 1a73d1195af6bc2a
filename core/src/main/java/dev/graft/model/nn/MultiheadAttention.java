package dev.graft.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.graft.onnx.OnnxGraph;

import java.util.List;

/**
 * torch.nn.MultiheadAttention for self-attention on (batch, tokens, dim) input: {@code in_proj_weight} and
 * {@code in_proj_bias} project to queries, keys and values at once, {@code out_proj} mixes the heads. Scores are
 * softmaxed in float32 whatever the compute precision, as autocast does.
 */
public final class MultiheadAttention extends Module {
    private final Compute compute;
    private final Parameter inWeight;
    private final Parameter inBias;
    private final Linear outProj;
    private final int heads;
    private final int dim;

    MultiheadAttention(Layers l, int dim, int heads) {
        this.compute = l.compute();
        this.dim = dim;
        this.heads = heads;
        this.inWeight = add(l.parameter("in_proj_weight", true, new Shape(3L * dim, dim)));
        this.inBias = add(l.parameter("in_proj_bias", true, new Shape(3L * dim)));
        this.outProj = add("out_proj", l.linear(dim, dim, true));
        compute.register(this);
    }

    public Parameter inProjWeight() {
        return inWeight;
    }

    public Parameter inProjBias() {
        return inBias;
    }

    /** The same computation as {@link #apply} in ONNX: one projection to q, k, v, per-head attention, out_proj. */
    @Override
    protected OnnxGraph.Value exportOnnx(OnnxGraph g, OnnxGraph.Value x) {
        int hd = dim / heads;
        OnnxGraph.Value qkv;
        try (Compute.Weights w = compute.weights(this, inWeight.getArray(), inBias.getArray(), false)) {
            qkv = g.linear(x, floats(w.weight()), 3 * dim, dim, floats(w.bias()));
        }
        // (n, t, 3, heads, hd) -> (3, n, heads, t, hd)
        OnnxGraph.Value split = g.transpose(g.reshapeBatch(qkv, -1, 3, heads, hd), 2, 0, 3, 1, 4);
        OnnxGraph.Value q = g.mul(g.select(split, 0, 0), g.scalar((float) (1.0 / Math.sqrt(hd))));
        OnnxGraph.Value k = g.select(split, 0, 1);
        OnnxGraph.Value v = g.select(split, 0, 2);
        OnnxGraph.Value kt = g.transpose(k, 0, 1, 3, 2);
        long t = q.dim(2);
        OnnxGraph.Value scores = g.node("MatMul", new long[] {q.dim(0), heads, t, t}, List.of(q, kt));
        OnnxGraph.Value p = g.softmax(scores, -1);
        OnnxGraph.Value o = g.node("MatMul", new long[] {q.dim(0), heads, t, hd}, List.of(p, v));
        OnnxGraph.Value merged = g.reshapeBatch(g.transpose(o, 0, 2, 1, 3), -1, dim);
        return outProj.onnx(g, merged);
    }

    @Override
    public NDArray apply(NDArray x, boolean training) {
        long n = x.getShape().get(0);
        long t = x.getShape().get(1);
        int hd = dim / heads;
        NDArray qkv;
        try (Compute.Weights w = compute.weights(this, inWeight.getArray(), inBias.getArray(), training)) {
            qkv = JniUtils.linear((PtNDArray) compute.operand(x), (PtNDArray) w.weight(), (PtNDArray) w.bias());
        }
        // (n, t, 3, heads, hd) -> (3, n, heads, t, hd)
        NDArray split = free(qkv, qkv.reshape(n, t, 3, heads, hd).transpose(2, 0, 3, 1, 4));
        NDArray q = split.get(0).mul(1.0 / Math.sqrt(hd));
        NDArray k = split.get(1);
        NDArray v = split.get(2);
        split.close();
        NDArray scores = free(q, q.matMul(k.transpose(0, 1, 3, 2)));
        k.close();
        NDArray p = free(scores, Ops.toFloat32(scores).softmax(-1));
        NDArray pc = free(p, compute.operand(p));
        NDArray o = free(pc, pc.matMul(v));
        v.close();
        NDArray merged = free(o, o.transpose(0, 2, 1, 3).reshape(n, t, dim));
        return free(merged, outProj.apply(merged, training));
    }
}
