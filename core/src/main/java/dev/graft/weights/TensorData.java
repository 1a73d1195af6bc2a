package dev.graft.weights;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One tensor as a weight file holds it: element type, shape and little-endian bytes in C order.
 * Format readers produce these; architectures consume them through {@link StateDict}.
 */
public final class TensorData {
    private final DType dtype;
    private final long[] shape;
    private final ByteBuffer data;

    public TensorData(DType dtype, long[] shape, ByteBuffer data) {
        long n = numel(shape);
        if ((long) data.remaining() != n * dtype.bytes()) {
            throw new IllegalArgumentException("tensor of shape " + Arrays.toString(shape) + " and dtype " + dtype
                    + " needs " + n * dtype.bytes() + " bytes, got " + data.remaining());
        }
        this.dtype = dtype;
        this.shape = shape.clone();
        this.data = data.slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    public static TensorData ofFloats(float[] values, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return new TensorData(DType.F32, shape, b);
    }

    public static TensorData ofLongs(long[] values, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(values);
        return new TensorData(DType.I64, shape, b);
    }

    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public DType dtype() {
        return dtype;
    }

    public long[] shape() {
        return shape.clone();
    }

    public long numel() {
        return numel(shape);
    }

    /** A read-only little-endian view of the raw bytes. */
    public ByteBuffer bytes() {
        return data.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The values converted to float32 (integers and wider floats are converted, not reinterpreted). */
    public float[] toFloats() {
        int n = Math.toIntExact(numel());
        float[] out = new float[n];
        ByteBuffer b = bytes();
        switch (dtype) {
            case F32 -> b.asFloatBuffer().get(out);
            case F64 -> { for (int i = 0; i < n; i++) out[i] = (float) b.getDouble(i * 8); }
            case F16 -> { for (int i = 0; i < n; i++) out[i] = DType.halfToFloat(b.getShort(i * 2)); }
            case BF16 -> { for (int i = 0; i < n; i++) out[i] = DType.bf16ToFloat(b.getShort(i * 2)); }
            case I64 -> { for (int i = 0; i < n; i++) out[i] = b.getLong(i * 8); }
            case I32 -> { for (int i = 0; i < n; i++) out[i] = b.getInt(i * 4); }
            case I16 -> { for (int i = 0; i < n; i++) out[i] = b.getShort(i * 2); }
            case I8 -> { for (int i = 0; i < n; i++) out[i] = b.get(i); }
            case U8, BOOL -> { for (int i = 0; i < n; i++) out[i] = b.get(i) & 0xff; }
        }
        return out;
    }

    public long[] toLongs() {
        int n = Math.toIntExact(numel());
        long[] out = new long[n];
        ByteBuffer b = bytes();
        switch (dtype) {
            case I64 -> b.asLongBuffer().get(out);
            case I32 -> { for (int i = 0; i < n; i++) out[i] = b.getInt(i * 4); }
            case I16 -> { for (int i = 0; i < n; i++) out[i] = b.getShort(i * 2); }
            case I8 -> { for (int i = 0; i < n; i++) out[i] = b.get(i); }
            case U8, BOOL -> { for (int i = 0; i < n; i++) out[i] = b.get(i) & 0xff; }
            default -> { float[] f = toFloats(); for (int i = 0; i < n; i++) out[i] = (long) f[i]; }
        }
        return out;
    }

    /** Counts NaN and infinite values (0 for integer types). */
    public long countNonFinite() {
        if (!dtype.isFloating()) {
            return 0;
        }
        long bad = 0;
        for (float v : toFloats()) {
            if (!Float.isFinite(v)) {
                bad++;
            }
        }
        return bad;
    }

    /** The same values with a new shape of equal element count. */
    public TensorData reshape(long... newShape) {
        if (numel(newShape) != numel()) {
            throw new IllegalArgumentException("cannot reshape " + Arrays.toString(shape) + " to " + Arrays.toString(newShape));
        }
        return new TensorData(dtype, newShape, bytes());
    }

    /** Reorders axes (like numpy.transpose) of a float32-convertible tensor; result is float32. */
    public TensorData permute(int... axes) {
        int rank = shape.length;
        if (axes.length != rank) {
            throw new IllegalArgumentException("permute needs " + rank + " axes");
        }
        long[] newShape = new long[rank];
        for (int i = 0; i < rank; i++) {
            newShape[i] = shape[axes[i]];
        }
        float[] src = toFloats();
        float[] dst = new float[src.length];
        long[] srcStrides = strides(shape);
        int[] idx = new int[rank];
        for (int o = 0; o < dst.length; o++) {
            long s = 0;
            for (int i = 0; i < rank; i++) {
                s += idx[i] * srcStrides[axes[i]];
            }
            dst[o] = src[(int) s];
            for (int i = rank - 1; i >= 0; i--) {
                if (++idx[i] < newShape[i]) {
                    break;
                }
                idx[i] = 0;
            }
        }
        return ofFloats(dst, newShape);
    }

    static long[] strides(long[] shape) {
        long[] s = new long[shape.length];
        long acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    @Override
    public String toString() {
        return dtype + Arrays.toString(shape);
    }
}
