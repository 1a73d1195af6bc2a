package dev.graft.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * How one network's forwards run, shared by all its layers: memory order, precision, whether BatchNorm keeps its
 * running statistics while the weights train, and the weights prepared for inference (BatchNorm folded into the
 * convolution before it, cast once for bfloat16). Settings are per network and passed in, never global.
 */
public final class Compute {
    private volatile boolean channelsLastTrain = true;
    private volatile boolean channelsLastInfer = true;
    /** 1x1 convolutions in float32 as a matrix product (null: graft's rule, see {@link Conv2d}). */
    private volatile Boolean pointwiseProduct;
    private volatile boolean foldBatchNorm = true;
    private volatile Precision precision = Precision.FP32;
    private volatile boolean batchNormStatisticsFrozen;
    private volatile boolean stochastic = true;
    /** BatchNorms that read only one convolution's output (nothing else reads it): foldable into it. */
    private final Map<BatchNorm2d, Conv2d> foldable = new IdentityHashMap<>();
    private final List<Object> weighted = new ArrayList<>();
    /** Weights of the layers for non-training forwards, from {@link #prepareInference()}; empty otherwise. */
    private volatile Map<Object, NDArray[]> inference = Map.of();
    private final Map<BatchNorm2d, Boolean> folded = new IdentityHashMap<>();

    /**
     * Images go through the network in channels-last memory order (NHWC in memory, NCHW shape): libtorch's oneDNN
     * convolutions are faster on it and every layer after the first keeps the order (ResNet-18 on 2 cores:
     * training +17%, inference +28%; docs/BENCHMARKS.md).
     */
    public void setChannelsLast(boolean on) {
        setChannelsLast(on, on);
    }

    /** The memory order of training forwards and of the others (evaluation, prediction), each its own. */
    public void setChannelsLast(boolean training, boolean inference) {
        channelsLastTrain = training;
        channelsLastInfer = inference;
    }

    /** Whether forwards that train ({@code training}) or the others run in channels-last order. */
    public boolean channelsLast(boolean training) {
        return training ? channelsLastTrain : channelsLastInfer;
    }

    /**
     * Whether float32 1x1 convolutions run as a matrix product on the channels-last view (true), as libtorch's
     * convolution (false), or by graft's rule (null: the product only where libtorch's 1x1 kernel fails its check).
     */
    public void setPointwiseProduct(Boolean product) {
        pointwiseProduct = product;
    }

    public Boolean pointwiseProduct() {
        return pointwiseProduct;
    }

    /** Whether inference folds each BatchNorm into the convolution before it (the default). */
    public void setFoldBatchNorm(boolean fold) {
        if (fold != foldBatchNorm) {
            releaseInference();
            foldBatchNorm = fold;
        }
    }

    public boolean foldBatchNorm() {
        return foldBatchNorm;
    }

    /** FP32 or BF16 (AUTO is resolved for this CPU). */
    public void setPrecision(Precision requested) {
        Precision p = requested.resolve();
        if (p != precision) {
            releaseInference();
            precision = p;
        }
    }

    public Precision precision() {
        return precision;
    }

    /** BatchNorm normalises with (and keeps) its running statistics even in training forwards. */
    public void setBatchNormStatisticsFrozen(boolean frozen) {
        batchNormStatisticsFrozen = frozen;
    }

    /**
     * Whether training forwards drop (dropout, stochastic depth) as the source model does; off, a training forward
     * is deterministic (parity tests compare batch-statistics forwards with torchvision's this way).
     */
    public void setStochastic(boolean on) {
        stochastic = on;
    }

    public boolean stochastic(boolean training) {
        return training && stochastic;
    }

    boolean batchNormTraining(boolean training) {
        return training && !batchNormStatisticsFrozen;
    }

    void register(Object layer) {
        weighted.add(layer);
    }

    /** Declares that {@code bn} reads only {@code conv}'s output, so inference can fold it into the convolution. */
    public void pairForFolding(Conv2d conv, BatchNorm2d bn) {
        foldable.put(bn, conv);
    }

    /**
     * An operand of a matrix product or convolution in the compute type: under bfloat16 a float32 activation (a
     * softmax's output, a product with a float32 parameter) is cast, as autocast casts the inputs of those ops.
     */
    public NDArray operand(NDArray x) {
        return precision == Precision.BF16 && x.getDataType() == ai.djl.ndarray.types.DataType.FLOAT32 ? Ops.BFLOAT16.apply(x) : x;
    }

    /** The network input in the compute layout (of an inference forward) and type. */
    public NDArray input(NDArray nchw) {
        return input(nchw, false);
    }

    /** The network input in the compute layout of a training forward or of the others, and in the compute type. */
    public NDArray input(NDArray nchw, boolean training) {
        NDArray x = channelsLast(training) ? toChannelsLast(nchw) : nchw;
        if (precision != Precision.BF16) {
            return x;
        }
        NDArray b = Ops.BFLOAT16.apply(x);
        if (x != nchw) {
            x.close();
        }
        return b;
    }

    /** The same values with channels-last strides; DJL exposes no memory format, so permute, copy, permute back. */
    static NDArray toChannelsLast(NDArray nchw) {
        Shape s = nchw.getShape();
        if (s.dimension() != 4 || s.get(1) == 1) {
            return nchw;
        }
        // reshape of the permuted view cannot be a view, so it copies into NHWC order
        NDArray nhwc = nchw.transpose(0, 2, 3, 1).reshape(s.get(0), -1).reshape(s.get(0), s.get(2), s.get(3), s.get(1));
        return nhwc.transpose(0, 3, 1, 2);
    }

    /**
     * Computes the weights of every layer for forwards that do not train: each foldable BatchNorm folded into its
     * convolution (w * s and beta + (b - mean) * s, s = gamma / sqrt(var + eps): one pass over each activation
     * fewer, MobileNet v1 inference +24%), and everything cast once to bfloat16 under that precision. The
     * weights must not change until {@link #releaseInference()}.
     */
    public synchronized void prepareInference() {
        releaseInference();
        Map<Object, NDArray[]> prepared = new IdentityHashMap<>();
        Map<Conv2d, BatchNorm2d> bnOf = new IdentityHashMap<>();
        foldable.forEach((bn, conv) -> bnOf.put(conv, bn));
        for (Object layer : weighted) {
            NDArray[] wb;
            if (layer instanceof Conv2d conv && bnOf.containsKey(conv) && foldBatchNorm) {
                wb = bnOf.get(conv).fold(conv);
                folded.put(bnOf.get(conv), true);
            } else if (layer instanceof Conv2d conv) {
                wb = new NDArray[] {conv.weight().duplicate(), conv.bias() == null ? null : conv.bias().duplicate()};
            } else if (layer instanceof Linear lin) {
                wb = new NDArray[] {lin.weight().duplicate(), lin.bias() == null ? null : lin.bias().duplicate()};
            } else if (layer instanceof MultiheadAttention mha) {
                wb = new NDArray[] {mha.inProjWeight().getArray().duplicate(), mha.inProjBias().getArray().duplicate()};
            } else {
                continue;
            }
            if (precision == Precision.BF16) {
                for (int i = 0; i < wb.length; i++) {
                    if (wb[i] != null) {
                        wb[i] = Module.free(wb[i], Ops.BFLOAT16.apply(wb[i]));
                    }
                }
            }
            prepared.put(layer, wb);
        }
        inference = prepared;
    }

    /** Whether {@link #prepareInference()} holds prepared weights now. */
    public boolean hasInference() {
        return !inference.isEmpty();
    }

    /** Drops the inference weights; forwards use the parameters again. */
    public synchronized void releaseInference() {
        for (NDArray[] wb : inference.values()) {
            for (NDArray a : wb) {
                if (a != null) {
                    a.close();
                }
            }
        }
        inference = Map.of();
        folded.clear();
    }

    boolean isFolded(BatchNorm2d bn, boolean training) {
        return !training && !inference.isEmpty() && folded.containsKey(bn);
    }

    /** A layer's weight and bias for one forward; {@code temporary} ones (casts) are closed after it. */
    record Weights(NDArray weight, NDArray bias, boolean temporary) implements AutoCloseable {
        @Override
        public void close() {
            if (temporary) {
                weight.close();
                if (bias != null) {
                    bias.close();
                }
            }
        }
    }

    /**
     * A layer's weight and bias for this forward: the prepared ones when not training, else the parameters
     * (cast to bfloat16 under that precision, once per forward as autocast does; the float32 masters train).
     */
    Weights weights(Object layer, NDArray weight, NDArray bias, boolean training) {
        NDArray[] prepared = training ? null : inference.get(layer);
        if (prepared != null) {
            return new Weights(prepared[0], prepared[1], false);
        }
        if (precision == Precision.BF16) {
            return new Weights(Ops.BFLOAT16.apply(weight), bias == null ? null : Ops.BFLOAT16.apply(bias), true);
        }
        return new Weights(weight, bias, false);
    }
}
