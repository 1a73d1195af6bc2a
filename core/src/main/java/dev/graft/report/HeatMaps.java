package dev.graft.report;

import dev.graft.data.RgbImage;
import dev.graft.model.GradCam;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Base64;

/** Grad-CAM maps drawn over the image the network saw: bilinear upsampling, a blue-to-red colour scale, half opacity. */
public final class HeatMaps {
    static final float OPACITY = 0.5f;

    private HeatMaps() {
    }

    /** The crop with the map blended over it, same size as the crop. */
    public static BufferedImage overlay(RgbImage crop, GradCam.Heat heat) {
        int w = crop.width();
        int h = crop.height();
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            // cell centres: map cell i covers [i, i+1) * size / cells
            double fy = Math.max(0, Math.min(heat.height() - 1, (y + 0.5) * heat.height() / h - 0.5));
            int y0 = (int) fy;
            int y1 = Math.min(heat.height() - 1, y0 + 1);
            double ty = fy - y0;
            for (int x = 0; x < w; x++) {
                double fx = Math.max(0, Math.min(heat.width() - 1, (x + 0.5) * heat.width() / w - 0.5));
                int x0 = (int) fx;
                int x1 = Math.min(heat.width() - 1, x0 + 1);
                double tx = fx - x0;
                double v = (1 - ty) * ((1 - tx) * heat.at(y0, x0) + tx * heat.at(y0, x1)) + ty * ((1 - tx) * heat.at(y1, x0) + tx * heat.at(y1, x1));
                int[] c = colour(v);
                int r = Math.round((1 - OPACITY) * crop.get(x, y, 0) + OPACITY * c[0]);
                int g = Math.round((1 - OPACITY) * crop.get(x, y, 1) + OPACITY * c[1]);
                int b = Math.round((1 - OPACITY) * crop.get(x, y, 2) + OPACITY * c[2]);
                out.setRGB(x, y, (r << 16) | (g << 8) | b);
            }
        }
        return out;
    }

    /** The "jet" scale: 0 dark blue, 0.5 green-yellow, 1 dark red. */
    static int[] colour(double v) {
        double t = Math.max(0, Math.min(1, v));
        double r = Math.min(1, Math.max(0, 1.5 - Math.abs(4 * t - 3)));
        double g = Math.min(1, Math.max(0, 1.5 - Math.abs(4 * t - 2)));
        double b = Math.min(1, Math.max(0, 1.5 - Math.abs(4 * t - 1)));
        return new int[] {(int) Math.round(255 * r), (int) Math.round(255 * g), (int) Math.round(255 * b)};
    }

    public static byte[] png(BufferedImage img) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(img, "png", out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String dataUri(BufferedImage img) {
        return "data:image/png;base64," + Base64.getEncoder().encodeToString(png(img));
    }
}
