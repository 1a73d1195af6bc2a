package dev.graft.data;

import java.util.Arrays;

/**
 * What a model expects of its input pixels: the test-time resize and crop, and the normalisation its weights were
 * trained with. It belongs to the weights and travels with the trained model, so nobody normalises by hand.
 *
 * @param resize      test-time resize target (256 in the book)
 * @param shortSide   true: resize the shorter side to {@code resize} keeping aspect (torchvision's Resize(256));
 *                    false: resize to resize x resize (the book's Resize([256, 256]))
 * @param crop        square input size (224)
 * @param mean        per-channel mean subtracted after scaling to [0, 1]
 * @param std         per-channel standard deviation divided by
 * @param interpolation the resize filter (Pillow's bilinear or bicubic, as the weights' metadata says)
 */
public record Preprocessing(int resize, boolean shortSide, int crop, float[] mean, float[] std, Resample.Filter interpolation) {
    public static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f};
    public static final float[] IMAGENET_STD = {0.229f, 0.224f, 0.225f};

    public Preprocessing {
        if (crop <= 0 || resize < crop) {
            throw new IllegalArgumentException("need 0 < crop <= resize, got crop " + crop + ", resize " + resize);
        }
        if (mean.length != 3 || std.length != 3) {
            throw new IllegalArgumentException("mean and std need 3 channels");
        }
        mean = mean.clone();
        std = std.clone();
    }

    public Preprocessing(int resize, boolean shortSide, int crop, float[] mean, float[] std) {
        this(resize, shortSide, crop, mean, std, Resample.Filter.BILINEAR);
    }

    /** torchvision's ImageClassification preset: Resize(resize) of the shorter side, CenterCrop(crop), ImageNet mean/std. */
    public static Preprocessing torchvision(int resize, int crop, Resample.Filter interpolation) {
        return new Preprocessing(resize, true, crop, IMAGENET_MEAN, IMAGENET_STD, interpolation);
    }

    /** The book's: Resize([256, 256]), CenterCrop(224), ImageNet mean/std. */
    public static Preprocessing imagenet() {
        return new Preprocessing(256, false, 224, IMAGENET_MEAN, IMAGENET_STD);
    }

    /** Keras "tf" mode: pixels scaled to [-1, 1], i.e. x/127.5 - 1 = (x/255 - 0.5) / 0.5. */
    public static Preprocessing minusOneToOne(int crop) {
        int resize = Math.round(crop * 256f / 224f);
        return new Preprocessing(resize, false, crop, new float[] {0.5f, 0.5f, 0.5f}, new float[] {0.5f, 0.5f, 0.5f});
    }

    public Preprocessing withShortSide(boolean value) {
        return new Preprocessing(resize, value, crop, mean, std, interpolation);
    }

    public Preprocessing withNormalization(float[] newMean, float[] newStd) {
        return new Preprocessing(resize, shortSide, crop, newMean, newStd, interpolation);
    }

    /** Another input size, resized in the same proportion (the book: 256 for 224). */
    public Preprocessing withCrop(int size) {
        return new Preprocessing(Math.round(size * (float) resize / crop), shortSide, size, mean, std, interpolation);
    }

    public String describe() {
        return (shortSide ? "Resize(" + resize : "Resize([" + resize + ", " + resize + "]")
                + (interpolation == Resample.Filter.BILINEAR ? ")" : ", " + interpolation.name().toLowerCase(java.util.Locale.ROOT) + ")")
                + ", CenterCrop(" + crop + "), Normalize(mean=" + Arrays.toString(mean) + ", std=" + Arrays.toString(std) + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Preprocessing p && p.resize == resize && p.shortSide == shortSide && p.crop == crop
                && Arrays.equals(p.mean, mean) && Arrays.equals(p.std, std) && p.interpolation == interpolation;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(mean) * 31 + Arrays.hashCode(std) + resize * 7 + crop + (shortSide ? 1 : 0) + interpolation.hashCode();
    }
}
