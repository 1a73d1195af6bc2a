package dev.graft.report;

import dev.graft.train.EpochMetrics;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** compare.html: the modes side by side on one chart (test accuracy per epoch, mean over seeds) and the table. */
public final class CompareReport {
    private CompareReport() {
    }

    public static String render(String title, String table, List<String> notes, Map<String, List<List<EpochMetrics>>> histories) {
        Map<String, double[]> test = new LinkedHashMap<>();
        Map<String, double[]> loss = new LinkedHashMap<>();
        histories.forEach((mode, runs) -> {
            test.put(mode, meanPerEpoch(runs, true));
            loss.put(mode, meanPerEpoch(runs, false));
        });
        return "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>graft compare</title>" + Html.STYLE
                + "</head><body><h1>graft compare</h1><p>" + Html.esc(title) + "</p>"
                + "<h2>Test accuracy by epoch</h2><div class=\"charts\"><img alt=\"test accuracy per mode\" src=\""
                + Charts.lineChart("Test accuracy (mean over seeds)", "accuracy", test) + "\"><img alt=\"train loss per mode\" src=\""
                + Charts.lineChart("Train loss (mean over seeds)", "mean loss per example", loss) + "\"></div>"
                + "<h2>Summary</h2><pre>" + Html.esc(table) + "</pre>"
                + notes.stream().map(n -> "<p class=\"warn\">" + Html.esc(n) + "</p>").reduce("", String::concat)
                + "</body></html>\n";
    }

    static double[] meanPerEpoch(List<List<EpochMetrics>> runs, boolean testAcc) {
        int epochs = runs.stream().mapToInt(List::size).max().orElse(0);
        double[] out = new double[epochs];
        for (int e = 0; e < epochs; e++) {
            double s = 0;
            int n = 0;
            for (List<EpochMetrics> h : runs) {
                if (e < h.size()) {
                    double v = testAcc ? h.get(e).testAcc() : h.get(e).trainLoss();
                    if (!Double.isNaN(v)) {
                        s += v;
                        n++;
                    }
                }
            }
            out[e] = n == 0 ? Double.NaN : s / n;
        }
        return out;
    }
}
