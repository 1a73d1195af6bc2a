package dev.graft.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.graft.onnx.OnnxGraph;

/** torch.nn.Conv2d: {@code weight} (out, in/groups, kh, kw) and an optional {@code bias}. */
public final class Conv2d extends Module {
    private final Compute compute;
    private final Parameter weight;
    private final Parameter bias;
    private final Shape stride;
    private final Shape padding;
    private final Shape dilation;
    private final int groups;
    /** A 1x1 convolution without padding or groups: a matrix product per pixel (see {@link #pointwise}). */
    private final boolean pointwise;
    /** A depthwise convolution with a stride: its bfloat16 input gradient is checked ({@link StridedDepthwiseCheck}). */
    private final boolean stridedDepthwise;

    Conv2d(Layers l, int in, int out, int kh, int kw, int sh, int sw, int ph, int pw, int dilation, int groups, boolean bias) {
        this.compute = l.compute();
        this.weight = add(l.parameter("weight", true, new Shape(out, in / groups, kh, kw)));
        this.bias = bias ? add(l.parameter("bias", true, new Shape(out))) : null;
        this.stride = new Shape(sh, sw);
        this.padding = new Shape(ph, pw);
        this.dilation = new Shape(dilation, dilation);
        this.groups = groups;
        this.pointwise = groups == 1 && kh == 1 && kw == 1 && ph == 0 && pw == 0;
        this.stridedDepthwise = groups > 1 && groups == in && (sh > 1 || sw > 1);
        if (stridedDepthwise) {
            // checked here, once, when the first such network is built: the check records gradients of its own, which
            // must not happen inside a training step's recording
            StridedDepthwiseCheck.BFLOAT16_GRADIENT_EXACT.getClass();
        }
        compute.register(this);
    }

    @Override
    public NDArray apply(NDArray x, boolean training) {
        // (DJL 0.36 reports a bfloat16 tensor's type as UNKNOWN: the precision setting says what the activations are)
        if (stridedDepthwise && training && compute.precision() == Precision.BF16 && x.getDataType() != DataType.FLOAT32
                && !StridedDepthwiseCheck.BFLOAT16_GRADIENT_EXACT) {
            return float32((PtNDArray) x);
        }
        try (Compute.Weights w = compute.weights(this, weight(), bias(), training)) {
            PtNDArray in = (PtNDArray) compute.operand(x);
            // (a forward that looks for the 1x1 shapes to check runs them all as the product, in either memory order)
            if (pointwise && in.getShape().dimension() == 4 && (compute.channelsLast(training) || PointwiseCheck.looking()) && product(in)) {
                return pointwise(in, (PtNDArray) w.weight(), (PtNDArray) w.bias());
            }
            return JniUtils.convolution(in, (PtNDArray) w.weight(), (PtNDArray) w.bias(), stride, padding, dilation, groups);
        }
    }

    /**
     * Whether this 1x1 convolution runs as a product: where the per-machine tuning chose the product
     * ({@link Compute#pointwiseProduct}), and wherever libtorch's own 1x1 kernel failed its check for this layer's shape
     * ({@link PointwiseCheck}). (Before the tuning a bfloat16 test here never held: DJL 0.36 reports a bfloat16
     * tensor's type as UNKNOWN, so bfloat16 ran through the convolution too.)
     */
    private boolean product(PtNDArray in) {
        return Boolean.TRUE.equals(compute.pointwiseProduct()) || !PointwiseCheck.exact(this, in.getShape());
    }

    /** Tests of the tuning: makes the 1x1 product path wrong (its output negated: no BatchNorm after it can undo that), as a broken kernel would be. */
    public static void injectProductFault(boolean on) {
        productFault = on;
    }

    private static volatile boolean productFault;

    /**
     * A 1x1 convolution of a channels-last activation as the matrix product it is: y[n,h,w,:] = W x[n,h,w,:] + b
     * on the NHWC view, whose result is channels-last again. Used where the tuning measured it faster and correct,
     * and always where libtorch's own 1x1 convolution fails {@link PointwiseCheck}: libtorch 2.7.1's oneDNN 1x1 kernel picks
     * its blocking from the CPU's cache sizes, and on VMs that report none (before {@link OneDnnCaches}) it returned
     * wrong values (14% relative error for 256 -> 512 channels at 14x14 stride 2, ResNet-18's last downsample) or
     * crashed the JVM; elsewhere
     * the convolution is faster in float32 (MobileNet v1 252 against 160 images/s).
     */
    private NDArray pointwise(PtNDArray x, PtNDArray w, PtNDArray b) {
        Shape s = w.getShape();
        PtNDArray in = x;
        if (stride.get(0) > 1 || stride.get(1) > 1) {
            // a strided 1x1 convolution reads every stride-th pixel
            in = JniUtils.slice(JniUtils.slice(x, 2, 0, x.getShape().get(2), stride.get(0)), 3, 0, x.getShape().get(3), stride.get(1));
        }
        PtNDArray nhwc = JniUtils.permute(in, new long[] {0, 2, 3, 1});
        PtNDArray w2 = JniUtils.reshape(w, new long[] {s.get(0), s.get(1)});
        PtNDArray y = JniUtils.linear(nhwc, w2, b);
        // views: closing their handles frees nothing the result needs
        nhwc.close();
        w2.close();
        if (in != x) {
            in.close();
        }
        if (productFault) {
            y = (PtNDArray) free(y, y.neg());
        }
        return free(y, JniUtils.permute(y, new long[] {0, 3, 1, 2}));
    }

    /**
     * This convolution in float32 on a bfloat16 activation, the result cast back: where libtorch's bfloat16 strided
     * depthwise convolution returns a wrong input gradient ({@link StridedDepthwiseCheck}), training computes those
     * layers (MobileNet's, EfficientNet's downsamplings; cheap, a few percent of the FLOPs) in float32.
     */
    private NDArray float32(PtNDArray x) {
        PtNDArray in = (PtNDArray) Ops.FLOAT32.apply(x);
        PtNDArray y = JniUtils.convolution(in, (PtNDArray) weight(), (PtNDArray) bias(), stride, padding, dilation, groups);
        in.close();
        return free(y, Ops.BFLOAT16.apply(y));
    }

    @Override
    protected OnnxGraph.Value exportOnnx(OnnxGraph g, OnnxGraph.Value x) {
        return export(g, x, new long[4]);
    }

    /**
     * This convolution with {@code extra} zero padding (top, left, bottom, right) added to its own, as one Conv
     * node: TensorFlow's 'same' padding, which depends on the input size, becomes the node's (asymmetric) pads.
     */
    public OnnxGraph.Value onnx(OnnxGraph g, OnnxGraph.Value x, long[] extra) {
        return g.in(this, () -> export(g, x, extra));
    }

    private OnnxGraph.Value export(OnnxGraph g, OnnxGraph.Value x, long[] extra) {
        // the inference weights where prepared (BatchNorm folded in), else the parameters
        try (Compute.Weights w = compute.weights(this, weight(), bias(), false)) {
            long ph = padding.get(0);
            long pw = padding.get(1);
            return g.conv(x, floats(w.weight()), w.weight().getShape().getShape(), w.bias() == null ? null : floats(w.bias()),
                    stride.getShape(), new long[] {ph + extra[0], pw + extra[1], ph + extra[2], pw + extra[3]}, dilation.getShape(), groups);
        }
    }

    /** A 1x1 convolution without padding or groups (a product per pixel). */
    public boolean isPointwise() {
        return pointwise;
    }

    public NDArray weight() {
        return weight.getArray();
    }

    public NDArray bias() {
        return bias == null ? null : bias.getArray();
    }

    public int groups() {
        return groups;
    }

    public long outChannels() {
        return weight.getArray().getShape().get(0);
    }

    /**
     * Whether libtorch's bfloat16 depthwise convolution with stride 2 computes the gradient of its input as float32
     * does, on this machine, in both memory orders. On the AVX512-BF16 EPYC of 2026-12-06 it did not: the input
     * gradient's cosine with float32's was 0.28 (the weight gradient and the forward agreed), so every MobileNet
     * trained in bfloat16 learned from gradients that were mostly noise below its first downsampling (fine-tuning
     * on sketch7 0.81 against 0.87 in float32, same seed). The cause was oneDNN's 1-byte idea of that VM's caches
     * ({@link OneDnnCaches}): with them repaired the cosine is 0.9998 there (0.23 without). The check stays for
     * hosts and builds graft has not met.
     */
    static final class StridedDepthwiseCheck {
        static final Boolean BFLOAT16_GRADIENT_EXACT = check();

        private static boolean check() {
            try {
                return cosine(false) > 0.999 && cosine(true) > 0.999;
            } catch (IllegalStateException e) {
                return false; // built while another gradient was being recorded: not known to be exact, so the float32 path
            }
        }

        /** The cosine between the bfloat16 and float32 input gradients of one strided depthwise convolution. */
        static double cosine(boolean channelsLast) {
            float[][] g = new float[2][];
            for (int k = 0; k < 2; k++) {
                try (NDManager m = Torch.newManager()) {
                    // MobileNet v1's: TensorFlow's 'same' padding of an even size, one row and column after
                    NDArray w = m.arange(32 * 9).toType(DataType.FLOAT32, false).mul(0.37).sin().mul(0.3).reshape(32, 1, 3, 3);
                    NDArray x = m.arange(2 * 32 * 29 * 29).toType(DataType.FLOAT32, false).mul(0.11).sin().reshape(2, 32, 29, 29);
                    x.setRequiresGradient(true);
                    try (ai.djl.training.GradientCollector gc = Torch.engine().newGradientCollector()) {
                        NDArray in = channelsLast ? Compute.toChannelsLast(x) : x;
                        NDArray a = k == 0 ? in : Ops.BFLOAT16.apply(in);
                        NDArray y = Ops.toFloat32(JniUtils.convolution((PtNDArray) a, (PtNDArray) (k == 0 ? w : Ops.BFLOAT16.apply(w)),
                                null, new Shape(2, 2), new Shape(0, 0), new Shape(1, 1), 32));
                        gc.backward(y.mul(y).sum().mul(0.5f));
                    }
                    g[k] = x.getGradient().toFloatArray();
                }
            }
            double d = 0;
            double a = 0;
            double b = 0;
            for (int i = 0; i < g[0].length; i++) {
                d += g[0][i] * g[1][i];
                a += g[0][i] * g[0][i];
                b += g[1][i] * g[1][i];
            }
            return d / Math.sqrt(a * b);
        }
    }

    /**
     * Checks, for the 1x1 convolutions {@code forward} meets (run once on a small batch, every 1x1 as the product), whether
     * libtorch's own channels-last kernel computes their shapes right on this machine; those that pass run as the
     * kernel from then on, the others (and any shape never checked) as the product. See {@link PointwiseCheck}.
     */
    public static void checkPointwise(Runnable forward) {
        PointwiseCheck.prepare(forward);
    }

    /**
     * Whether libtorch's float32 1x1 convolution in channels-last computes a shape (input and output channels, height,
     * width, stride) right on this machine, against a float64 convolution (libtorch's reference kernel, not oneDNN's).
     * libtorch 2.7.1's oneDNN picks its 1x1 blocking from the CPU's cache sizes, and on VMs that report none some
     * shapes came out wrong, one crashed the process, the others were right (2026-12-07, AMD EPYC without cache sizes,
     * 33 shapes of ResNet-18, MobileNet v1, MobileNetV2 at batch 2, 32 and 64: forward relative error 6e-2 to 1.5e-1 for
     * 128 -> 512 at 7x7, 256 -> 512 at 14x14 stride 2, 960 -> 320 and 320 -> 1280 at 7x7, the same at every batch size;
     * at most 2.4e-7 for the other 29; the input and weight gradients right for all 33; a division by zero inside
     * oneDNN's {@code est_eff_1x1} for a ResNet-50 shape). The cause was that VM's CPUID, which makes oneDNN think
     * every cache is 1 byte; since {@link OneDnnCaches} repairs that, all 37 shapes of those networks and ResNet-50
     * are right there (at most 6.4e-8) and none crashes. The check stays for what else may be wrong on a host graft
     * has not met: shapes are checked in a child process
     * ({@link PointwiseProbe}), whose crash marks the shape it was on as wrong, and the answers are kept in graft's
     * cache per machine (CPU, flags, threads, libtorch). A right shape keeps the kernel, 1.5 to 6 times faster than
     * the product in training (MobileNet v1's 24 -> 48 at 112x112: 27 against 150 ms at batch 32).
     */
    static final class PointwiseCheck {
        /** Shape key to whether the kernel is right: this process's answers (from the cache or a probe). */
        private static final java.util.concurrent.ConcurrentHashMap<String, Boolean> EXACT = new java.util.concurrent.ConcurrentHashMap<>();
        /** The shapes met by a forward that {@link #prepare} runs (on this thread), else null. */
        private static final ThreadLocal<java.util.Set<String>> MET = new ThreadLocal<>();

        private PointwiseCheck() {
        }

        static String key(Conv2d conv, Shape input) {
            return conv.weight().getShape().get(1) + "," + conv.weight().getShape().get(0) + "," + input.get(2) + "," + input.get(3) + ","
                    + conv.stride.get(0) + "," + conv.stride.get(1) + "," + conv.compute.precision().name().toLowerCase(java.util.Locale.ROOT);
        }

        static boolean looking() {
            return MET.get() != null;
        }

        static boolean exact(Conv2d conv, Shape input) {
            String key = key(conv, input);
            java.util.Set<String> met = MET.get();
            if (met != null) {
                met.add(key);
                return false;
            }
            return EXACT.getOrDefault(key, false);
        }

        static void prepare(Runnable forward) {
            java.util.Set<String> met = new java.util.LinkedHashSet<>();
            MET.set(met);
            try {
                forward.run();
            } finally {
                MET.remove();
            }
            met.removeIf(EXACT::containsKey);
            if (!met.isEmpty()) {
                EXACT.putAll(PointwiseProbe.answers(met));
            }
        }
    }
}
