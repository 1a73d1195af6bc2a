package dev.graft.data;

import dev.graft.Images;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LoaderTest {
    @TempDir
    Path root;

    static final Preprocessing P = new Preprocessing(40, false, 32, Preprocessing.IMAGENET_MEAN, Preprocessing.IMAGENET_STD);

    List<Loader.Decoded> epoch(ImageFolder f, long seed, int epoch, int workers, int from) {
        List<Loader.Decoded> out = new ArrayList<>();
        try (Loader l = new Loader(f.samples(), Transforms.bookTrain(P), Transforms.size(P), 4, true, seed, workers, 3,
                OnBadImage.SKIP, new BadImages(s -> { }), new ImageDecoder(), 0)) {
            Iterator<Loader.Decoded> it = l.epoch(epoch, from);
            it.forEachRemaining(out::add);
        }
        return out;
    }

    @Test
    void sameSeedGivesTheSameOrderAndCropsWhateverTheThreads() throws Exception {
        Images.dataset(root, new String[] {"a", "b"}, 5, 1);
        ImageFolder f = ImageFolder.book(root).train();
        List<Loader.Decoded> one = epoch(f, 42, 0, 1, 0);
        List<Loader.Decoded> four = epoch(f, 42, 0, 4, 0);
        assertEquals(3, one.size());
        for (int i = 0; i < one.size(); i++) {
            assertArrayEquals(one.get(i).samples(), four.get(i).samples());
            assertArrayEquals(one.get(i).data(), four.get(i).data());
            assertArrayEquals(one.get(i).labels(), four.get(i).labels());
        }
        List<Loader.Decoded> other = epoch(f, 43, 0, 2, 0);
        assertFalse(Arrays.equals(one.get(0).data(), other.get(0).data()), "another seed gives other crops");
        List<Loader.Decoded> nextEpoch = epoch(f, 42, 1, 2, 0);
        assertFalse(Arrays.equals(one.get(0).samples(), nextEpoch.get(0).samples()) && Arrays.equals(one.get(0).data(), nextEpoch.get(0).data()));
    }

    @Test
    void resumingMidEpochGivesTheRemainingBatchesExactly() throws Exception {
        Images.dataset(root, new String[] {"a", "b"}, 6, 1);
        ImageFolder f = ImageFolder.book(root).train();
        List<Loader.Decoded> all = epoch(f, 9, 2, 2, 0);
        List<Loader.Decoded> tail = epoch(f, 9, 2, 2, 1);
        assertEquals(all.size() - 1, tail.size());
        for (int i = 0; i < tail.size(); i++) {
            assertArrayEquals(all.get(i + 1).data(), tail.get(i).data());
        }
    }

    @Test
    void randomResizedCropStaysInsideTheImageAndCoversTheRatioRange() {
        SplittableRandom rng = new SplittableRandom(3);
        double minArea = 1;
        double maxArea = 0;
        for (int i = 0; i < 2000; i++) {
            int[] b = Transforms.cropBox(300, 200, 0.08, 1, 3.0 / 4, 4.0 / 3, rng);
            assertTrue(b[0] >= 0 && b[1] >= 0 && b[0] + b[2] <= 300 && b[1] + b[3] <= 200, Arrays.toString(b));
            double area = b[2] * b[3] / 60000.0;
            minArea = Math.min(minArea, area);
            maxArea = Math.max(maxArea, area);
            double ratio = (double) b[2] / b[3];
            assertTrue(ratio > 0.7 && ratio < 1.45 || b[2] == 300 || b[3] == 200, "ratio " + ratio);
        }
        assertTrue(minArea < 0.1 && maxArea > 0.8, minArea + " " + maxArea);
    }

    @Test
    void testTransformIsDeterministicAndNormalised() throws Exception {
        Path f = Images.write(root.resolve("x.png"), Images.pattern(64, 48, 5), "png");
        RgbImage img = new ImageDecoder().decode(f);
        float[] a = new float[Transforms.size(P)];
        float[] b = new float[Transforms.size(P)];
        Transforms.bookTest(P).apply(img, new SplittableRandom(1), a, 0);
        Transforms.bookTest(P).apply(img, new SplittableRandom(2), b, 0);
        assertArrayEquals(a, b);
        for (float v : a) {
            assertTrue(v >= -2.2 && v <= 2.7);
        }
    }
}
