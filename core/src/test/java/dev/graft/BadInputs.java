package dev.graft;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;
import java.awt.image.BufferedImage;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * Generates the bad and awkward inputs a real photo folder holds (nothing binary is committed): each entry is a
 * file name and the bytes to write, plus whether graft must read it (awkward but valid) or skip it (bad).
 */
public final class BadInputs {
    private BadInputs() {
    }

    /** A generated input: its bytes, and whether it is a valid image graft must read. */
    public record Input(byte[] bytes, boolean valid, String what) {
    }

    public static Map<String, Input> corpus() throws IOException {
        Map<String, Input> m = new LinkedHashMap<>();
        byte[] jpeg = encode(Images.pattern(64, 48, 11), "jpg");
        byte[] png = encode(Images.pattern(64, 48, 12), "png");
        m.put("zero-bytes.jpg", new Input(new byte[0], false, "zero-byte file"));
        m.put("truncated.jpg", new Input(Arrays.copyOf(jpeg, jpeg.length / 2), false, "truncated JPEG"));
        m.put("truncated.png", new Input(Arrays.copyOf(png, png.length / 2), false, "truncated PNG"));
        m.put("text.jpg", new Input("this is a text file, not a photo\n".getBytes(), false, "text file named .jpg"));
        m.put("bomb.png", new Input(pngHeader(30000, 30000), false, "PNG header declaring 30000x30000 pixels"));
        m.put("bomb.jpg", new Input(jpegHeader(30000, 30000), false, "JPEG header declaring 30000x30000 pixels"));
        m.put("cmyk.jpg", new Input(cmykJpeg(48, 32), true, "CMYK JPEG"));
        m.put("gray.jpg", new Input(encode(gray(40, 30), "jpg"), true, "grayscale JPEG"));
        m.put("gray16.png", new Input(encode(gray16(40, 30), "png"), true, "16-bit grayscale PNG"));
        m.put("palette-alpha.png", new Input(encode(paletteWithAlpha(40, 30), "png"), true, "palette PNG with transparency"));
        m.put("animated.gif", new Input(animatedGif(), true, "animated GIF (first frame)"));
        m.put("one-pixel.png", new Input(encode(Images.pattern(1, 1, 3), "png"), true, "1x1 image"));
        m.put("exif-rotated.jpg", new Input(withExifOrientation(encode(Images.pattern(60, 30, 4), "jpg"), 6), true,
                "EXIF orientation 6 (rotate 90 degrees)"));
        m.put("jpeg-named.png", new Input(jpeg, true, "JPEG named .png"));
        m.put("bitmap.BMP", new Input(encode(Images.pattern(30, 20, 5), "bmp"), true, "BMP, upper-case extension"));
        m.put("hot dög 🌭 ホットドッグ.jpg", new Input(jpeg, true, "non-ASCII file name"));
        return m;
    }

    public static void writeAll(Path dir) throws IOException {
        Files.createDirectories(dir);
        for (Map.Entry<String, Input> e : corpus().entrySet()) {
            Files.write(dir.resolve(e.getKey()), e.getValue().bytes());
        }
        Files.createSymbolicLink(dir.resolve("dangling-link.jpg"), dir.resolve("does-not-exist.jpg"));
        Files.createDirectories(dir.resolve("folder-named.jpg"));
    }

    public static byte[] encode(BufferedImage img, String format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!ImageIO.write(img, format, out)) {
            throw new IOException("no writer for " + format);
        }
        return out.toByteArray();
    }

    static BufferedImage gray(int w, int h) {
        BufferedImage g = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                g.getRaster().setSample(x, y, 0, (x * 6 + y) & 0xff);
            }
        }
        return g;
    }

    static BufferedImage gray16(int w, int h) {
        BufferedImage g = new BufferedImage(w, h, BufferedImage.TYPE_USHORT_GRAY);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                g.getRaster().setSample(x, y, 0, (x * 1500 + y * 7) & 0xffff);
            }
        }
        return g;
    }

    static BufferedImage paletteWithAlpha(int w, int h) {
        byte[] r = {(byte) 255, 0, 0, 10};
        byte[] g = {0, (byte) 255, 0, 20};
        byte[] b = {0, 0, (byte) 255, 30};
        byte[] a = {(byte) 255, (byte) 255, (byte) 128, 0};
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_INDEXED, new IndexColorModel(2, 4, r, g, b, a));
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.getRaster().setSample(x, y, 0, (x / 10 + y / 10) % 4);
            }
        }
        return img;
    }

    /** A 4-channel JPEG with Adobe's marker: readers take it as CMYK. */
    static byte[] cmykJpeg(int w, int h) throws IOException {
        WritableRaster raster = Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, w, h, 4, null);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                raster.setPixel(x, y, new int[] {x * 5 & 0xff, y * 7 & 0xff, 40, 10});
            }
        }
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ImageOutputStream ios = ImageIO.createImageOutputStream(out)) {
            writer.setOutput(ios);
            ImageWriteParam p = writer.getDefaultWriteParam();
            writer.write(null, new IIOImage(raster, null, null), p);
        } finally {
            writer.dispose();
        }
        return out.toByteArray();
    }

    static byte[] animatedGif() throws IOException {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("gif").next();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ImageOutputStream ios = ImageIO.createImageOutputStream(out)) {
            writer.setOutput(ios);
            writer.prepareWriteSequence(null);
            for (int i = 0; i < 3; i++) {
                BufferedImage frame = Images.pattern(32, 24, 100 + i);
                BufferedImage indexed = new BufferedImage(32, 24, BufferedImage.TYPE_BYTE_INDEXED);
                indexed.getGraphics().drawImage(frame, 0, 0, null);
                IIOMetadata meta = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(indexed), null);
                String fmt = meta.getNativeMetadataFormatName();
                IIOMetadataNode root = (IIOMetadataNode) meta.getAsTree(fmt);
                IIOMetadataNode gce = new IIOMetadataNode("GraphicControlExtension");
                gce.setAttribute("disposalMethod", "none");
                gce.setAttribute("userInputFlag", "FALSE");
                gce.setAttribute("transparentColorFlag", "FALSE");
                gce.setAttribute("delayTime", "10");
                gce.setAttribute("transparentColorIndex", "0");
                root.appendChild(gce);
                meta.mergeTree(fmt, root);
                writer.writeToSequence(new IIOImage(indexed, null, meta), null);
            }
            writer.endWriteSequence();
        } finally {
            writer.dispose();
        }
        return out.toByteArray();
    }

    /** Inserts an APP1 Exif segment with the given orientation right after the JPEG's SOI marker. */
    public static byte[] withExifOrientation(byte[] jpeg, int orientation) {
        ByteBuffer tiff = ByteBuffer.allocate(26).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        tiff.put((byte) 'I').put((byte) 'I').putShort((short) 42).putInt(8);
        tiff.putShort((short) 1); // one IFD entry
        tiff.putShort((short) 0x0112).putShort((short) 3).putInt(1).putShort((short) orientation).putShort((short) 0);
        tiff.putInt(0);
        byte[] t = tiff.array();
        int len = 2 + 6 + t.length;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0xFF);
        out.write(0xD8);
        out.write(0xFF);
        out.write(0xE1);
        out.write(len >> 8);
        out.write(len & 0xff);
        out.writeBytes(new byte[] {'E', 'x', 'i', 'f', 0, 0});
        out.writeBytes(t);
        out.write(jpeg, 2, jpeg.length - 2);
        return out.toByteArray();
    }

    /** A PNG signature + IHDR declaring width x height, an empty IDAT and IEND: no pixel data. */
    public static byte[] pngHeader(int width, int height) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        chunk(out, "IHDR", ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 8).put((byte) 2)
                .put((byte) 0).put((byte) 0).put((byte) 0).array());
        chunk(out, "IDAT", new byte[] {0x78, (byte) 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01});
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    /** A baseline JPEG SOF0 declaring width x height with no image data after it. */
    public static byte[] jpegHeader(int width, int height) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xD8});
        out.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xC0, 0, 17, 8, (byte) (height >> 8), (byte) height, (byte) (width >> 8), (byte) width, 3,
            1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1});
        out.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xD9});
        return out.toByteArray();
    }

    static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
        out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
        byte[] t = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        out.writeBytes(t);
        out.writeBytes(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }
}
