package dev.graft.data;

import dev.graft.Images;
import dev.graft.Shared;
import dev.graft.Torchvision;
import dev.graft.weights.Npy;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PreprocessingParityTest {

    @Test
    void bookTestTransformMatchesTorchvisionOnRealJpegs() throws Exception {
        List<String> names = Files.readAllLines(Shared.path("fixtures/preprocessing/names.txt"));
        float[] want = Npy.read(Shared.path("fixtures/preprocessing/torch_input.npy")).toFloats();
        Preprocessing p = Preprocessing.imagenet();
        int n = Transforms.size(p);
        float[] got = new float[names.size() * n];
        ImageDecoder decoder = new ImageDecoder();
        for (int i = 0; i < names.size(); i++) {
            RgbImage img = decoder.decode(Shared.hotdog().resolve(names.get(i)));
            Transforms.bookTest(p).apply(img, null, got, i * n);
        }
        assertEquals(want.length, got.length);
        double sumAbs = 0;
        double maxAbs = 0;
        int exact = 0;
        for (int i = 0; i < want.length; i++) {
            double d = Math.abs(got[i] - want[i]);
            sumAbs += d;
            maxAbs = Math.max(maxAbs, d);
            if (d < 1e-6) {
                exact++;
            }
        }
        double meanAbs = sumAbs / want.length;
        // one 8-bit level is 1/255/std ~ 0.017 after normalisation; JPEG decoders differ by a level or two
        System.out.printf("preprocessing vs torchvision: mean |diff| %.5f, max %.4f, exact %.1f%%%n", meanAbs, maxAbs, 100.0 * exact / want.length);
        assertTrue(meanAbs < 0.01, "mean abs diff " + meanAbs);
        assertTrue(maxAbs < 0.2, "max abs diff " + maxAbs);
    }

    @Test
    void resampleMatchesPillowOnAKnownCase() {
        // 4x1 -> 2x1: the triangle filter widens to 3 taps per output (antialiasing)
        byte[] rgb = new byte[4 * 3];
        int[] values = {0, 100, 200, 255};
        for (int i = 0; i < 4; i++) {
            rgb[i * 3] = (byte) values[i];
            rgb[i * 3 + 1] = (byte) values[i];
            rgb[i * 3 + 2] = (byte) values[i];
        }
        RgbImage out = Resample.resize(new RgbImage(4, 1, rgb), 2, 1);
        // Pillow 9.4: Image.frombytes("L", (4,1), bytes([0,100,200,255])).resize((2,1), BILINEAR) -> [71, 209]
        assertEquals(71, out.get(0, 0, 0));
        assertEquals(209, out.get(1, 0, 0));
    }

    /**
     * torchvision's ImageClassification presets (Resize of the shorter side, bilinear or bicubic with Pillow's
     * antialiasing, CenterCrop, Normalize) computed by torchvision on lossless PNGs and by graft: the same floats.
     */
    @Test
    void torchvisionPresetsMatchBilinearAndBicubic() throws Exception {
        Path dir = Torchvision.workDir("presets");
        List<RgbImage> images = List.of(Images.pattern(333, 250, 1), Images.pattern(201, 310, 2), Images.pattern(640, 480, 3))
                .stream().map(RgbImage::of).toList();
        for (int i = 0; i < images.size(); i++) {
            Images.write(dir.resolve("img" + i + ".png"), Images.pattern(new int[] {333, 201, 640}[i], new int[] {250, 310, 480}[i], i + 1), "png");
        }
        Torchvision.run("""
                import sys, numpy as np, PIL.Image as Image
                from torchvision.transforms import InterpolationMode
                from torchvision.transforms._presets import ImageClassification
                d = sys.argv[1]
                for name, resize, crop, mode in [("bilinear", 232, 224, InterpolationMode.BILINEAR), ("bicubic", 255, 240, InterpolationMode.BICUBIC)]:
                    t = ImageClassification(crop_size=crop, resize_size=resize, interpolation=mode)
                    x = np.stack([t(Image.open(f"{d}/img{i}.png").convert("RGB")).numpy() for i in range(3)])
                    np.save(f"{d}/{name}.npy", x.astype(np.float32))
                """, dir.toAbsolutePath().toString());
        for (Resample.Filter f : Resample.Filter.values()) {
            Preprocessing p = f == Resample.Filter.BILINEAR ? Preprocessing.torchvision(232, 224, f) : Preprocessing.torchvision(255, 240, f);
            float[] want = Npy.read(dir.resolve(f.name().toLowerCase(java.util.Locale.ROOT) + ".npy")).toFloats();
            int n = Transforms.size(p);
            float[] got = new float[images.size() * n];
            for (int i = 0; i < images.size(); i++) {
                // the PNG as written and read back, what torchvision saw
                RgbImage img = new ImageDecoder().decode(dir.resolve("img" + i + ".png"));
                Transforms.bookTest(p).apply(img, null, got, i * n);
            }
            double max = 0;
            for (int i = 0; i < want.length; i++) {
                max = Math.max(max, Math.abs(want[i] - got[i]));
            }
            assertTrue(max < 1e-5, f + ": max |diff| " + max);
        }
    }
}
