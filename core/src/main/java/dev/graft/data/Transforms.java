package dev.graft.data;

import java.util.SplittableRandom;

/**
 * The book's image augmentations, written as torchvision computes them:
 * {@code train_augs} = RandomResizedCrop(224) + RandomHorizontalFlip + ToTensor + Normalize, and
 * {@code test_augs} = Resize + CenterCrop(224) + ToTensor + Normalize.
 */
public final class Transforms {
    private Transforms() {
    }

    /** Turns one decoded image into a CHW float tensor written at {@code out[offset]}. */
    @FunctionalInterface
    public interface ImageTransform {
        void apply(RgbImage img, SplittableRandom rng, float[] out, int offset);
    }

    /** Number of floats one transformed image occupies. */
    public static int size(Preprocessing p) {
        return 3 * p.crop() * p.crop();
    }

    public static ImageTransform bookTrain(Preprocessing p) {
        return randomResizedCrop(p, 0.08, 1.0, 3.0 / 4.0, 4.0 / 3.0, true);
    }

    public static ImageTransform randomResizedCrop(Preprocessing p, double minScale, double maxScale,
                                                   double minRatio, double maxRatio, boolean flip) {
        int size = p.crop();
        return (img, rng, out, offset) -> {
            int[] box = cropBox(img.width(), img.height(), minScale, maxScale, minRatio, maxRatio, rng);
            RgbImage r = Resample.resizeRegion(img, box[0], box[1], box[2], box[3], size, size, p.interpolation());
            boolean mirror = flip && rng.nextDouble() < 0.5;
            toTensor(r, mirror, p.mean(), p.std(), out, offset);
        };
    }

    public static ImageTransform bookTest(Preprocessing p) {
        return (img, rng, out, offset) -> toTensor(resizeCenterCrop(img, p), false, p.mean(), p.std(), out, offset);
    }

    /** The test-time geometry alone (used for thumbnails in reports, too). */
    public static RgbImage resizeCenterCrop(RgbImage img, Preprocessing p) {
        int w;
        int h;
        if (p.shortSide()) {
            // torchvision: the shorter side becomes `resize`, the longer one int(resize * long / short)
            if (img.width() <= img.height()) {
                w = p.resize();
                h = (int) ((long) p.resize() * img.height() / img.width());
            } else {
                h = p.resize();
                w = (int) ((long) p.resize() * img.width() / img.height());
            }
        } else {
            w = p.resize();
            h = p.resize();
        }
        RgbImage r = Resample.resize(img, w, h, p.interpolation());
        int c = p.crop();
        // torchvision's CenterCrop: int(round((h - c) / 2.0)) with Python's round-half-even
        int top = (int) Math.rint((h - c) / 2.0);
        int left = (int) Math.rint((w - c) / 2.0);
        return Resample.crop(r, left, top, c, c);
    }

    /**
     * torchvision's RandomResizedCrop.get_params: up to 10 tries at a random area and log-uniform aspect ratio,
     * then a center crop clamped to the ratio range. Returns {x, y, w, h}.
     */
    static int[] cropBox(int width, int height, double minScale, double maxScale, double minRatio, double maxRatio,
                         SplittableRandom rng) {
        double area = (double) width * height;
        double logMin = Math.log(minRatio);
        double logMax = Math.log(maxRatio);
        for (int attempt = 0; attempt < 10; attempt++) {
            double target = area * (minScale + rng.nextDouble() * (maxScale - minScale));
            double ratio = Math.exp(logMin + rng.nextDouble() * (logMax - logMin));
            int w = (int) Math.rint(Math.sqrt(target * ratio));
            int h = (int) Math.rint(Math.sqrt(target / ratio));
            if (w > 0 && w <= width && h > 0 && h <= height) {
                int y = rng.nextInt(height - h + 1);
                int x = rng.nextInt(width - w + 1);
                return new int[] {x, y, w, h};
            }
        }
        double inRatio = (double) width / height;
        int w;
        int h;
        if (inRatio < minRatio) {
            w = width;
            h = (int) Math.rint(w / minRatio);
        } else if (inRatio > maxRatio) {
            h = height;
            w = (int) Math.rint(h * maxRatio);
        } else {
            w = width;
            h = height;
        }
        h = Math.max(1, Math.min(h, height));
        w = Math.max(1, Math.min(w, width));
        return new int[] {(width - w) / 2, (height - h) / 2, w, h};
    }

    /** ToTensor + Normalize: CHW, x/255 then (x - mean) / std, in float32 as torchvision computes it. */
    public static void toTensor(RgbImage img, boolean mirror, float[] mean, float[] std, float[] out, int offset) {
        int w = img.width();
        int h = img.height();
        int plane = w * h;
        byte[] rgb = img.rgb();
        float[][] lut = new float[3][256];
        for (int c = 0; c < 3; c++) {
            for (int v = 0; v < 256; v++) {
                lut[c][v] = ((float) v / 255f - mean[c]) / std[c];
            }
        }
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int sx = mirror ? w - 1 - x : x;
                int s = (y * w + sx) * 3;
                int d = offset + y * w + x;
                out[d] = lut[0][rgb[s] & 0xff];
                out[d + plane] = lut[1][rgb[s + 1] & 0xff];
                out[d + 2 * plane] = lut[2][rgb[s + 2] & 0xff];
            }
        }
    }
}
