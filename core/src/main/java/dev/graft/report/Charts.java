package dev.graft.report;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/** Line charts drawn with XChart and embedded as PNG data URIs, so a report is one self-contained file. */
public final class Charts {
    private Charts() {
    }

    /** One series per entry: name to y values at x = 1, 2, ... (NaN values are left out). */
    public static String lineChart(String title, String yTitle, Map<String, double[]> series) {
        Map<String, double[][]> xy = new LinkedHashMap<>();
        series.forEach((name, ys) -> {
            double[] xs = new double[ys.length];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = i + 1;
            }
            xy.put(name, new double[][] {xs, ys});
        });
        return xyChart(title, "epoch", yTitle, xy, false);
    }

    /** One series per entry: name to {x values, y values}; NaN points are left out; {@code logX}: logarithmic x axis. */
    public static String xyChart(String title, String xTitle, String yTitle, Map<String, double[][]> series, boolean logX) {
        XYChart chart = new XYChartBuilder().width(640).height(360).title(title).xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        chart.getStyler().setPlotGridLinesVisible(true);
        chart.getStyler().setXAxisLogarithmic(logX);
        chart.getStyler().setXAxisDecimalPattern(logX ? "0.#E0" : "0");
        chart.getStyler().setYAxisDecimalPattern("0.###");
        boolean any = false;
        for (Map.Entry<String, double[][]> e : series.entrySet()) {
            double[] x = e.getValue()[0];
            double[] y = e.getValue()[1];
            Map<Double, Double> points = new LinkedHashMap<>();
            for (int i = 0; i < Math.min(x.length, y.length); i++) {
                if (Double.isFinite(y[i]) && Double.isFinite(x[i]) && (!logX || x[i] > 0)) {
                    points.put(x[i], y[i]);
                }
            }
            if (points.isEmpty()) {
                continue;
            }
            double[] xs = points.keySet().stream().mapToDouble(Double::doubleValue).toArray();
            double[] ys = points.values().stream().mapToDouble(Double::doubleValue).toArray();
            var s = chart.addSeries(e.getKey(), xs, ys);
            s.setMarker(xs.length > 40 ? SeriesMarkers.NONE : SeriesMarkers.CIRCLE);
            any = true;
        }
        if (!any) {
            chart.addSeries("no data", new double[] {1}, new double[] {0});
        }
        try {
            byte[] png = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
            return "data:image/png;base64," + Base64.getEncoder().encodeToString(png);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
