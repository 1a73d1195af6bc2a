package dev.graft.data;

/** A decoded image: 8-bit RGB, interleaved, row-major. */
public record RgbImage(int width, int height, byte[] rgb) {
    public RgbImage {
        if ((long) width * height * 3 != rgb.length) {
            throw new IllegalArgumentException("RGB buffer of " + rgb.length + " bytes does not match " + width + "x" + height);
        }
    }

    public int get(int x, int y, int c) {
        return rgb[(y * width + x) * 3 + c] & 0xff;
    }
}
