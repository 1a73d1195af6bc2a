package dev.graft;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/** Generates small test images (tests never commit binaries a generator can make). */
public final class Images {
    private Images() {
    }

    public static BufferedImage pattern(int w, int h, long seed) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Random r = new Random(seed);
        Graphics2D g = img.createGraphics();
        g.setColor(new Color(r.nextInt(256), r.nextInt(256), r.nextInt(256)));
        g.fillRect(0, 0, w, h);
        for (int i = 0; i < 6; i++) {
            g.setColor(new Color(r.nextInt(256), r.nextInt(256), r.nextInt(256)));
            g.fillOval(r.nextInt(w), r.nextInt(h), 1 + r.nextInt(w / 2 + 1), 1 + r.nextInt(h / 2 + 1));
        }
        g.dispose();
        return img;
    }

    public static Path write(Path file, BufferedImage img, String format) throws IOException {
        Files.createDirectories(file.getParent());
        if (!ImageIO.write(img, format, file.toFile())) {
            throw new IOException("no writer for " + format);
        }
        return file;
    }

    /** A tiny dataset in the book's layout with the given classes and images per class and split. */
    public static Path dataset(Path root, String[] classes, int train, int test) throws IOException {
        long seed = 0;
        for (String split : new String[] {"train", "test"}) {
            for (String c : classes) {
                for (int i = 0; i < (split.equals("train") ? train : test); i++) {
                    write(root.resolve(split).resolve(c).resolve(c + "_" + i + ".jpg"), pattern(48 + i % 5 * 7, 40 + i % 3 * 9, seed++), "jpg");
                }
            }
        }
        return root;
    }

    /** Symbolic links to the first {@code n} files of {@code from} (by name) in {@code to}: a dataset without copies. */
    public static void link(Path from, Path to, int n) throws IOException {
        Files.createDirectories(to);
        try (var files = Files.list(from)) {
            for (Path f : files.sorted().limit(n).toList()) {
                Files.createSymbolicLink(to.resolve(f.getFileName()), f.toAbsolutePath());
            }
        }
    }
}
