package dev.graft.data;

import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.ImageInputStream;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * Decodes an image file to 8-bit RGB the way torchvision's loader sees it ({@code PIL.Image.open(f).convert("RGB")}),
 * with the guards a folder of strangers' photos needs: format found from content (not the extension), a pixel
 * limit checked from the header before decoding, truncation treated as an error, EXIF orientation honoured.
 */
public final class ImageDecoder {
    /** PIL's default decompression-bomb limit. */
    public static final long DEFAULT_MAX_PIXELS = 89_478_485L;
    private static final long MAX_FILE_BYTES = 512L << 20;

    static {
        ImageIO.setUseCache(false);
        ImageIO.scanForPlugins();
    }

    /** A serving default sized for photos: a 48-megapixel phone photo (8000 x 6000) passes, a 9000 x 9000 bomb does not. */
    public static final long SERVING_MAX_PIXELS = 50_000_000L;

    private final long maxPixels;
    private final int smallestSide;

    public ImageDecoder() {
        this(DEFAULT_MAX_PIXELS);
    }

    public ImageDecoder(long maxPixels) {
        this(maxPixels, 0);
    }

    /**
     * @param smallestSide decode large images at a reduced scale (every n-th pixel, as ImageIO's source subsampling
     *                     reads them) while the shorter side stays at least twice this; 0 decodes every pixel.
     *                     For serving: a 9000 x 9000 upload needs 17x fewer rows and columns kept for a 256 resize.
     */
    public ImageDecoder(long maxPixels, int smallestSide) {
        this.maxPixels = maxPixels;
        this.smallestSide = smallestSide;
    }

    public RgbImage decode(Path file) throws BadImageException {
        return decode(file, readFile(file));
    }

    /** Reads a file's bytes, turning file-system problems into messages a user can act on. */
    public static byte[] readFile(Path file) throws BadImageException {
        if (Files.isSymbolicLink(file) && !Files.exists(file)) {
            throw new BadImageException(file, "is a broken symbolic link");
        }
        if (Files.isDirectory(file)) {
            throw new BadImageException(file, "is a directory, not an image file");
        }
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS) && !Files.exists(file)) {
            throw new BadImageException(file, "does not exist (was it removed?)");
        }
        try {
            long size = Files.size(file);
            if (size == 0) {
                throw new BadImageException(file, "is empty (0 bytes)");
            }
            if (size > MAX_FILE_BYTES) {
                throw new BadImageException(file, "is " + size + " bytes, larger than the " + MAX_FILE_BYTES + "-byte limit for one image");
            }
            return Files.readAllBytes(file);
        } catch (AccessDeniedException e) {
            throw new BadImageException(file, "cannot be read: permission denied");
        } catch (NoSuchFileException e) {
            throw new BadImageException(file, "does not exist (was it removed?)");
        } catch (IOException e) {
            throw new BadImageException(file, "cannot be read: " + e.getMessage(), e);
        }
    }

    /** Decodes bytes already in memory; {@code file} is used for messages only. */
    public RgbImage decode(Path file, byte[] bytes) throws BadImageException {
        if (bytes.length == 0) {
            throw new BadImageException(file, "is empty (0 bytes)");
        }
        try (ImageInputStream iis = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(iis);
            if (!readers.hasNext()) {
                throw new BadImageException(file, "is not an image in a format graft reads (JPEG, PNG, BMP, GIF); "
                        + "it starts with " + describeStart(bytes));
            }
            ImageReader reader = readers.next();
            List<String> warnings = new ArrayList<>();
            try {
                reader.setInput(iis, true, true);
                long w = reader.getWidth(0);
                long h = reader.getHeight(0);
                if (w <= 0 || h <= 0) {
                    throw new BadImageException(file, "declares an empty size " + w + "x" + h);
                }
                if (w * h > maxPixels) {
                    throw new BadImageException(file, "declares " + w + "x" + h + " = " + (w * h) + " pixels, over the limit of "
                            + maxPixels + " (a decompression bomb?); not decoded. Raise --max-pixels if the image is genuine");
                }
                reader.addIIOReadWarningListener(new IIOReadWarningListener() {
                    @Override
                    public void warningOccurred(ImageReader source, String warning) {
                        warnings.add(warning);
                    }
                });
                ImageReadParam param = reader.getDefaultReadParam();
                int step = smallestSide > 0 ? (int) Math.max(1, Math.min(w, h) / (2L * smallestSide)) : 1;
                if (step > 1) {
                    param.setSourceSubsampling(step, step, 0, 0);
                }
                BufferedImage img = reader.read(0, param);
                for (String warning : warnings) {
                    if (isTruncation(warning)) {
                        throw new BadImageException(file, "is truncated or corrupt (" + warning.trim() + ")");
                    }
                }
                RgbImage rgb = toRgb(img);
                String format = reader.getFormatName().toLowerCase(Locale.ROOT);
                if (format.contains("jp")) {
                    rgb = Exif.apply(rgb, Exif.orientation(bytes));
                }
                return rgb;
            } finally {
                reader.dispose();
            }
        } catch (BadImageException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw new BadImageException(file, "is truncated or corrupt (" + msg + ")", e);
        } catch (OutOfMemoryError e) {
            throw new BadImageException(file, "needs more memory to decode than is available");
        }
    }

    private static boolean isTruncation(String warning) {
        String w = warning.toLowerCase(Locale.ROOT);
        return w.contains("premature") || w.contains("truncat") || w.contains("corrupt") || w.contains("end of");
    }

    private static String describeStart(byte[] b) {
        StringBuilder sb = new StringBuilder();
        int n = Math.min(8, b.length);
        boolean text = true;
        for (int i = 0; i < n; i++) {
            int c = b[i] & 0xff;
            if (c < 9 || (c > 13 && c < 32) || c > 126) {
                text = false;
            }
        }
        if (text) {
            sb.append("text \"").append(new String(b, 0, n, java.nio.charset.StandardCharsets.US_ASCII).replaceAll("\\s", " ")).append("...\"");
        } else {
            sb.append("bytes");
            for (int i = 0; i < n; i++) {
                sb.append(String.format(Locale.ROOT, " %02x", b[i] & 0xff));
            }
        }
        return sb.toString();
    }

    /** Any BufferedImage to interleaved 8-bit RGB; alpha is dropped, as PIL's convert("RGB") does. */
    static RgbImage toRgb(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        byte[] out = new byte[w * h * 3];
        Raster r = img.getRaster();
        int type = img.getType();
        if (type == BufferedImage.TYPE_3BYTE_BGR && r.getDataBuffer() instanceof DataBufferByte db
                && db.getNumBanks() == 1 && r.getParent() == null) {
            byte[] src = db.getData();
            for (int i = 0, n = w * h; i < n; i++) {
                out[i * 3] = src[i * 3 + 2];
                out[i * 3 + 1] = src[i * 3 + 1];
                out[i * 3 + 2] = src[i * 3];
            }
            return new RgbImage(w, h, out);
        }
        boolean gray = !(img.getColorModel() instanceof IndexColorModel)
                && img.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_GRAY;
        if (gray) {
            // Java would gamma-convert linear gray to sRGB; PIL copies the value, so do that.
            int bits = img.getColorModel().getComponentSize(0);
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                r.getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    int v = bits > 8 ? row[x] >>> (bits - 8) : bits < 8 ? row[x] * 255 / ((1 << bits) - 1) : row[x];
                    int o = (y * w + x) * 3;
                    out[o] = out[o + 1] = out[o + 2] = (byte) v;
                }
            }
            return new RgbImage(w, h, out);
        }
        int[] argb = new int[w];
        for (int y = 0; y < h; y++) {
            img.getRGB(0, y, w, 1, argb, 0, w);
            for (int x = 0; x < w; x++) {
                int o = (y * w + x) * 3;
                out[o] = (byte) (argb[x] >> 16);
                out[o + 1] = (byte) (argb[x] >> 8);
                out[o + 2] = (byte) argb[x];
            }
        }
        return new RgbImage(w, h, out);
    }
}
