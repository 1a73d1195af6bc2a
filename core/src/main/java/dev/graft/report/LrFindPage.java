package dev.graft.report;

import dev.graft.train.LrFinder;
import dev.graft.train.RunConfig;
import dev.graft.util.Json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** lr-find.html (the smoothed loss against the learning rate, log scale, the suggestion marked) and lr-find.json. */
public final class LrFindPage {
    private LrFindPage() {
    }

    public static void write(Path dir, LrFinder.Sweep s, RunConfig cfg) throws IOException {
        Files.createDirectories(dir);
        var json = Json.object().put("suggested_mean_loss_lr", s.suggestion()).put("suggested_recipe_lr", s.recipeLr())
                .put("loss_reduction", cfg.recipe().optimization().loss().name().toLowerCase(Locale.ROOT)).put("batch_size", cfg.recipe().schedule().batchSize())
                .put("steps", s.steps());
        json.set("lrs", Json.tree(s.lrs()));
        json.set("losses", Json.tree(s.losses()));
        Json.write(dir.resolve("lr-find.json"), json);
        Files.writeString(dir.resolve("lr-find.html"), html(s, cfg), StandardCharsets.UTF_8);
    }

    static String html(LrFinder.Sweep s, RunConfig cfg) {
        Map<String, double[][]> series = new LinkedHashMap<>();
        series.put("smoothed training loss", new double[][] {s.lrs(), s.losses()});
        double at = lossAt(s, s.suggestion());
        series.put("suggestion (valley)", new double[][] {{s.suggestion()}, {at}});
        String title = "graft lr-find: " + cfg.model() + " on " + cfg.data().getFileName();
        return "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + Html.esc(title) + "</title>" + Html.STYLE
                + "</head><body><h1>" + Html.esc(title) + "</h1>"
                + String.format(Locale.ROOT, "<p class=\"big\">suggested learning rate %.2g (mean loss)</p>", s.suggestion())
                + "<p>" + Html.esc(String.format(Locale.ROOT, "For this recipe (%s loss, batch %d): --lr %.2g. The head learns at x%.3g of it; ",
                cfg.recipe().optimization().loss().name().toLowerCase(Locale.ROOT), cfg.recipe().schedule().batchSize(), s.recipeLr(), cfg.recipe().optimization().headLrMult()))
                + Html.esc(String.format(Locale.ROOT, "%d training steps from %.1e upward, each at a rate %.3gx the last; stopped when the "
                + "smoothed loss passed 4x its best or at the last step. The suggestion is fastai's valley rule: two thirds along the longest "
                + "stretch where the loss keeps falling.", s.steps(), s.lrs()[0], s.steps() > 1 ? s.lrs()[1] / s.lrs()[0] : 1.0)) + "</p>"
                + "<img alt=\"loss against learning rate\" src=\"" + Charts.xyChart("Loss against learning rate", "learning rate (mean loss, log scale)",
                "smoothed loss", series, true) + "\">"
                + "<h2>Configuration</h2><p>" + Html.esc(cfg.recipe().describe()) + "</p></body></html>\n";
    }

    private static double lossAt(LrFinder.Sweep s, double lr) {
        int best = 0;
        for (int i = 0; i < s.lrs().length; i++) {
            if (Math.abs(Math.log(s.lrs()[i] / lr)) < Math.abs(Math.log(s.lrs()[best] / lr))) {
                best = i;
            }
        }
        return s.losses().length == 0 ? Double.NaN : s.losses()[best];
    }
}
