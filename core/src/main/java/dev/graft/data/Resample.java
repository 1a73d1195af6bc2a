package dev.graft.data;

/**
 * Resizing exactly as Pillow does it ({@code Image.resize(size, BILINEAR or BICUBIC)}, what torchvision uses on PIL
 * images): a separable filter whose support widens with the reduction factor (antialiasing), horizontal pass
 * first, 8-bit fixed-point coefficients with 22 fractional bits and rounding between passes. Matching Pillow bit
 * for bit keeps graft's preprocessing equal to the reference's on the same decoded pixels.
 */
public final class Resample {
    private static final int PRECISION_BITS = 32 - 8 - 2;

    /** Pillow's filters: support (in input pixels at scale 1) and kernel. */
    public enum Filter {
        /** Triangle, support 1. */
        BILINEAR(1.0),
        /** Keys' cubic with a = -0.5, support 2 (Pillow's bicubic_filter). */
        BICUBIC(2.0);

        final double support;

        Filter(double support) {
            this.support = support;
        }

        double weight(double x) {
            double a = Math.abs(x);
            if (this == BILINEAR) {
                return a < 1.0 ? 1.0 - a : 0.0;
            }
            double c = -0.5;
            if (a < 1.0) {
                return ((c + 2.0) * a - (c + 3.0)) * a * a + 1;
            }
            if (a < 2.0) {
                return (((a - 5) * a + 8) * a - 4) * c;
            }
            return 0.0;
        }
    }

    private Resample() {
    }

    /** Resizes the whole image (bilinear). */
    public static RgbImage resize(RgbImage src, int outW, int outH) {
        return resizeRegion(src, 0, 0, src.width(), src.height(), outW, outH, Filter.BILINEAR);
    }

    public static RgbImage resize(RgbImage src, int outW, int outH, Filter filter) {
        return resizeRegion(src, 0, 0, src.width(), src.height(), outW, outH, filter);
    }

    /**
     * Crops the integer region (x0, y0, w, h) and resizes it to outW x outH, like torchvision's
     * {@code resized_crop} (crop first, so the filter never reads outside the region).
     */
    public static RgbImage resizeRegion(RgbImage src, int x0, int y0, int w, int h, int outW, int outH) {
        return resizeRegion(src, x0, y0, w, h, outW, outH, Filter.BILINEAR);
    }

    public static RgbImage resizeRegion(RgbImage src, int x0, int y0, int w, int h, int outW, int outH, Filter filter) {
        if (x0 < 0 || y0 < 0 || w <= 0 || h <= 0 || x0 + w > src.width() || y0 + h > src.height()) {
            throw new IllegalArgumentException("region " + x0 + "," + y0 + " " + w + "x" + h + " outside " + src.width() + "x" + src.height());
        }
        boolean needH = outW != w;
        boolean needV = outH != h;
        if (!needH && !needV) {
            return crop(src, x0, y0, w, h);
        }
        Coeffs cv = Coeffs.of(h, outH, filter);
        int firstRow = cv.bounds[0];
        int lastRow = cv.bounds[(outH - 1) * 2] + cv.bounds[(outH - 1) * 2 + 1];
        byte[] tmp;
        int tmpW;
        int tmpH;
        int rowOffset;
        if (needH) {
            Coeffs ch = Coeffs.of(w, outW, filter);
            tmpH = lastRow - firstRow;
            tmpW = outW;
            tmp = new byte[tmpW * tmpH * 3];
            horizontal(src, x0, y0 + firstRow, tmpH, ch, tmp, outW);
            rowOffset = firstRow;
        } else {
            RgbImage c = crop(src, x0, y0, w, h);
            tmp = c.rgb();
            tmpW = w;
            tmpH = h;
            rowOffset = 0;
        }
        if (!needV) {
            return new RgbImage(tmpW, tmpH, tmp);
        }
        byte[] out = new byte[outW * outH * 3];
        vertical(tmp, tmpW, cv, rowOffset, out, outH);
        return new RgbImage(outW, outH, out);
    }

    public static RgbImage crop(RgbImage src, int x0, int y0, int w, int h) {
        byte[] out = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            System.arraycopy(src.rgb(), ((y0 + y) * src.width() + x0) * 3, out, y * w * 3, w * 3);
        }
        return new RgbImage(w, h, out);
    }

    private static void horizontal(RgbImage src, int x0, int y0, int rows, Coeffs c, byte[] out, int outW) {
        byte[] in = src.rgb();
        int sw = src.width();
        for (int y = 0; y < rows; y++) {
            int rowBase = (y0 + y) * sw;
            for (int xx = 0; xx < outW; xx++) {
                int xmin = c.bounds[xx * 2];
                int xmax = c.bounds[xx * 2 + 1];
                int k = xx * c.ksize;
                int s0 = 1 << (PRECISION_BITS - 1);
                int s1 = s0;
                int s2 = s0;
                for (int x = 0; x < xmax; x++) {
                    int p = (rowBase + x0 + xmin + x) * 3;
                    int kv = c.kk[k + x];
                    s0 += (in[p] & 0xff) * kv;
                    s1 += (in[p + 1] & 0xff) * kv;
                    s2 += (in[p + 2] & 0xff) * kv;
                }
                int o = (y * outW + xx) * 3;
                out[o] = clip8(s0);
                out[o + 1] = clip8(s1);
                out[o + 2] = clip8(s2);
            }
        }
    }

    private static void vertical(byte[] in, int w, Coeffs c, int rowOffset, byte[] out, int outH) {
        for (int yy = 0; yy < outH; yy++) {
            int ymin = c.bounds[yy * 2] - rowOffset;
            int ymax = c.bounds[yy * 2 + 1];
            int k = yy * c.ksize;
            for (int xx = 0; xx < w; xx++) {
                int s0 = 1 << (PRECISION_BITS - 1);
                int s1 = s0;
                int s2 = s0;
                for (int y = 0; y < ymax; y++) {
                    int p = ((ymin + y) * w + xx) * 3;
                    int kv = c.kk[k + y];
                    s0 += (in[p] & 0xff) * kv;
                    s1 += (in[p + 1] & 0xff) * kv;
                    s2 += (in[p + 2] & 0xff) * kv;
                }
                int o = (yy * w + xx) * 3;
                out[o] = clip8(s0);
                out[o + 1] = clip8(s1);
                out[o + 2] = clip8(s2);
            }
        }
    }

    private static byte clip8(int v) {
        int x = v >> PRECISION_BITS;
        return (byte) (x < 0 ? 0 : Math.min(x, 255));
    }

    /** Pillow's precompute_coeffs + normalize_coeffs_8bpc. */
    private static final class Coeffs {
        final int ksize;
        final int[] bounds;
        final int[] kk;

        private Coeffs(int ksize, int[] bounds, int[] kk) {
            this.ksize = ksize;
            this.bounds = bounds;
            this.kk = kk;
        }

        static Coeffs of(int inSize, int outSize, Filter filter) {
            double scale = (double) inSize / outSize;
            double filterscale = Math.max(scale, 1.0);
            double support = filter.support * filterscale;
            int ksize = (int) Math.ceil(support) * 2 + 1;
            int[] bounds = new int[outSize * 2];
            int[] kk = new int[outSize * ksize];
            double[] pre = new double[ksize];
            for (int xx = 0; xx < outSize; xx++) {
                double center = (xx + 0.5) * scale;
                double ww = 0.0;
                double ss = 1.0 / filterscale;
                int xmin = (int) (center - support + 0.5);
                if (xmin < 0) {
                    xmin = 0;
                }
                int xmax = (int) (center + support + 0.5);
                if (xmax > inSize) {
                    xmax = inSize;
                }
                xmax -= xmin;
                for (int x = 0; x < xmax; x++) {
                    double wgt = filter.weight((x + xmin - center + 0.5) * ss);
                    pre[x] = wgt;
                    ww += wgt;
                }
                for (int x = 0; x < xmax; x++) {
                    if (ww != 0.0) {
                        pre[x] /= ww;
                    }
                }
                for (int x = xmax; x < ksize; x++) {
                    pre[x] = 0;
                }
                for (int x = 0; x < ksize; x++) {
                    double v = pre[x] * (1 << PRECISION_BITS);
                    kk[xx * ksize + x] = (int) (v < 0 ? -0.5 + v : 0.5 + v);
                }
                bounds[xx * 2] = xmin;
                bounds[xx * 2 + 1] = xmax;
            }
            return new Coeffs(ksize, bounds, kk);
        }
    }
}
