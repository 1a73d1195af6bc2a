package dev.graft.data;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * The images of a run: training images, an optional validation split carved from them (to pick an epoch or a
 * model), and the test images, which no choice ever looks at.
 */
public record DataSplits(ImageFolder train, ImageFolder validation, ImageFolder test) {

    public List<String> classes() {
        return train.classes();
    }

    /**
     * The book's layout ({@code root/train/<class>}, {@code root/test/<class>}), at most {@code perClass} training and
     * {@code testPerClass} test images per class (0: all), and a class-stratified {@code validation} fraction of the
     * training images held out (0: none), all seeded.
     */
    public static DataSplits load(Path root, int perClass, int testPerClass, double validation, long seed, Consumer<String> log) {
        ImageFolder.Splits s = ImageFolder.book(root);
        ImageFolder train = perClass > 0 ? s.train().subset(perClass, seed) : s.train();
        ImageFolder test = testPerClass > 0 ? s.test().subset(testPerClass, seed) : s.test();
        s.train().warnings().forEach(log);
        s.test().warnings().forEach(log);
        ImageFolder val = null;
        if (validation > 0) {
            ImageFolder[] tv = train.splitValidation(validation, seed);
            train = tv[0];
            val = tv[1];
        }
        if (train.size() == 0) {
            throw new DataException("no training images in " + root.resolve("train"));
        }
        return new DataSplits(train, val, test);
    }

    /** The same images with a validation split carved from the training images. */
    public DataSplits withValidation(double fraction, long seed) {
        ImageFolder[] tv = train.splitValidation(fraction, seed);
        return new DataSplits(tv[0], tv[1], test);
    }
}
