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

    /** The pixels of an AWT image (alpha dropped), as sRGB bytes. */
    public static RgbImage of(java.awt.image.BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        byte[] rgb = new byte[w * h * 3];
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            image.getRGB(0, y, w, 1, row, 0, w);
            for (int x = 0; x < w; x++) {
                rgb[(y * w + x) * 3] = (byte) (row[x] >> 16);
                rgb[(y * w + x) * 3 + 1] = (byte) (row[x] >> 8);
                rgb[(y * w + x) * 3 + 2] = (byte) row[x];
            }
        }
        return new RgbImage(w, h, rgb);
    }
}
