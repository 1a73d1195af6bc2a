package dev.graft.data;

import dev.graft.BadInputs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Every awkward-but-valid image is read; every bad one is a BadImageException naming the file, never a crash. */
class BadImageTest {
    @TempDir
    Path dir;

    @Test
    void corpusIsReadOrRefusedWithAMessageNamingTheFile() throws Exception {
        BadInputs.writeAll(dir);
        ImageDecoder dec = new ImageDecoder();
        Preprocessing p = Preprocessing.imagenet();
        float[] out = new float[Transforms.size(p)];
        for (Map.Entry<String, BadInputs.Input> e : BadInputs.corpus().entrySet()) {
            Path f = dir.resolve(e.getKey());
            if (e.getValue().valid()) {
                RgbImage img;
                try {
                    img = dec.decode(f);
                } catch (BadImageException ex) {
                    fail(e.getValue().what() + " must be read, got: " + ex.getMessage());
                    return;
                }
                assertTrue(img.width() > 0 && img.height() > 0);
                // and it goes through both of the book's transforms
                Transforms.bookTrain(p).apply(img, new SplittableRandom(1), out, 0);
                Transforms.bookTest(p).apply(img, null, out, 0);
            } else {
                BadImageException ex = assertThrows(BadImageException.class, () -> dec.decode(f), e.getValue().what());
                assertTrue(ex.getMessage().contains(f.toString()), ex.getMessage());
                assertTrue(ex.reason().length() > 5, ex.reason());
            }
        }
        BadImageException link = assertThrows(BadImageException.class, () -> dec.decode(dir.resolve("dangling-link.jpg")));
        assertTrue(link.reason().contains("broken symbolic link"), link.reason());
        BadImageException folder = assertThrows(BadImageException.class, () -> dec.decode(dir.resolve("folder-named.jpg")));
        assertTrue(folder.reason().contains("directory"), folder.reason());
    }

    @Test
    void pixelLimitIsCheckedFromTheHeaderBeforeDecoding() throws Exception {
        Path f = dir.resolve("bomb.png");
        Files.write(f, BadInputs.pngHeader(30000, 30000));
        long before = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
        BadImageException e = assertThrows(BadImageException.class, () -> new ImageDecoder().decode(f));
        assertTrue(e.reason().contains("30000x30000") && e.reason().contains("pixels"), e.reason());
        long after = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
        assertTrue(after - before < 500L << 20, "no 2.7 GB buffer was allocated");
        Path j = dir.resolve("bomb.jpg");
        Files.write(j, BadInputs.jpegHeader(30000, 30000));
        assertTrue(assertThrows(BadImageException.class, () -> new ImageDecoder().decode(j)).reason().contains("pixels"));
    }

    @Test
    void exifOrientationIsHonoured() throws Exception {
        Path f = dir.resolve("rot.jpg");
        Files.write(f, BadInputs.corpus().get("exif-rotated.jpg").bytes());
        RgbImage img = new ImageDecoder().decode(f);
        assertEquals(30, img.width(), "60x30 stored, orientation 6 shows it 30 wide");
        assertEquals(60, img.height());
    }

    @Test
    void grayscaleIsCopiedNotGammaShifted() throws Exception {
        Path f = dir.resolve("g.png");
        Files.write(f, BadInputs.encode(grayImage(), "png"));
        RgbImage img = new ImageDecoder().decode(f);
        for (int x = 0; x < 8; x++) {
            assertEquals(x * 30, img.get(x, 0, 0));
            assertEquals(x * 30, img.get(x, 0, 2));
        }
    }

    @Test
    void sixteenBitKeepsItsRangeInsteadOfSaturating() throws Exception {
        Path f = dir.resolve("g16.png");
        Files.write(f, BadInputs.corpus().get("gray16.png").bytes());
        RgbImage img = new ImageDecoder().decode(f);
        int max = 0;
        int min = 255;
        for (int x = 0; x < img.width(); x++) {
            max = Math.max(max, img.get(x, 0, 0));
            min = Math.min(min, img.get(x, 0, 0));
        }
        assertTrue(max > 200 && min < 30, "16-bit values scale to 8 bits: " + min + ".." + max);
    }

    static java.awt.image.BufferedImage grayImage() {
        java.awt.image.BufferedImage g = new java.awt.image.BufferedImage(8, 1, java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
        for (int x = 0; x < 8; x++) {
            g.getRaster().setSample(x, 0, 0, x * 30);
        }
        return g;
    }
}
