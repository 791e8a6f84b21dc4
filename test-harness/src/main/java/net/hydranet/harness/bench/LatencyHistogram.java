package net.hydranet.harness.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * Latency distributions as the paper's figure 5 shows them: one histogram per series on a
 * logarithmic time axis (0.1 ms to 10 s), drawn with the JDK's own Java2D (headless) into a PNG,
 * and summarised as a Markdown table.
 */
public final class LatencyHistogram {
  private static final double MIN_MS = 0.1;
  private static final double MAX_MS = 10_000;
  private static final int BINS_PER_DECADE = 20;
  private static final Color[] COLOURS = {
    new Color(0x1f77b4),
    new Color(0xd62728),
    new Color(0x2ca02c),
    new Color(0x9467bd),
    new Color(0xff7f0e)
  };

  private final Map<String, double[]> series = new LinkedHashMap<>();

  /** Adds a series of latencies in milliseconds (copied and sorted). */
  public LatencyHistogram add(String name, double[] millis) {
    double[] s = millis.clone();
    Arrays.sort(s);
    series.put(name, s);
    return this;
  }

  public double[] sorted(String name) {
    return series.get(name);
  }

  /** The p-th percentile (0–100) by nearest rank. */
  public static double percentile(double[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
  }

  public static double mean(double[] v) {
    double s = 0;
    for (double x : v) {
      s += x;
    }
    return v.length == 0 ? Double.NaN : s / v.length;
  }

  /** A Markdown table: count, min, p10, median, mean, p90, p99, max per series, in ms. */
  public String table() {
    StringBuilder sb = new StringBuilder();
    sb.append("| series | n | min | p10 | median | mean | p90 | p99 | max |\n");
    sb.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (var e : series.entrySet()) {
      double[] s = e.getValue();
      sb.append(
          String.format(
              Locale.ROOT,
              "| %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n",
              e.getKey(),
              s.length,
              s.length == 0 ? Double.NaN : s[0],
              percentile(s, 10),
              percentile(s, 50),
              mean(s),
              percentile(s, 90),
              percentile(s, 99),
              s.length == 0 ? Double.NaN : s[s.length - 1]));
    }
    return sb.toString();
  }

  /** Writes the histograms, one outlined curve per series, share of requests per bin. */
  public void png(Path file, String title) throws IOException {
    int w = 1000;
    int h = 560;
    int left = 70;
    int right = 20;
    int top = 50;
    int bottom = 60;
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, w, h);
    int decades = (int) Math.round(Math.log10(MAX_MS / MIN_MS));
    int bins = decades * BINS_PER_DECADE;
    double[][] shares = new double[series.size()][bins];
    double top1 = 0;
    int k = 0;
    for (double[] s : series.values()) {
      for (double v : s) {
        int b = (int) Math.floor(Math.log10(Math.max(v, MIN_MS) / MIN_MS) * BINS_PER_DECADE);
        shares[k][Math.min(bins - 1, Math.max(0, b))] += 1.0 / s.length;
      }
      for (double x : shares[k]) {
        top1 = Math.max(top1, x);
      }
      k++;
    }
    double yMax = Math.max(0.05, Math.ceil(top1 * 20) / 20);
    int pw = w - left - right;
    int ph = h - top - bottom;
    g.setColor(new Color(0xdddddd));
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    for (int d = 0; d <= decades; d++) {
      int x = left + pw * d / decades;
      g.setColor(new Color(0xdddddd));
      g.drawLine(x, top, x, top + ph);
      g.setColor(Color.DARK_GRAY);
      double ms = MIN_MS * Math.pow(10, d);
      String label = ms < 1 ? ms + " ms" : ms < 1000 ? (int) ms + " ms" : (int) (ms / 1000) + " s";
      g.drawString(label, x - 15, top + ph + 18);
    }
    for (int i = 0; i <= 4; i++) {
      int y = top + ph - ph * i / 4;
      g.setColor(new Color(0xdddddd));
      g.drawLine(left, y, left + pw, y);
      g.setColor(Color.DARK_GRAY);
      g.drawString(String.format(Locale.ROOT, "%.0f%%", yMax * 100 * i / 4), 20, y + 4);
    }
    g.setColor(Color.BLACK);
    g.drawRect(left, top, pw, ph);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
    g.drawString(title, left, 28);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    g.drawString(
        "request latency (log scale); share of the series' requests per bin", left, h - 18);
    g.setStroke(new BasicStroke(2f));
    k = 0;
    for (String name : series.keySet()) {
      Color c = COLOURS[k % COLOURS.length];
      g.setColor(c);
      int px = left;
      int py = top + ph;
      for (int b = 0; b < bins; b++) {
        int x0 = left + pw * b / bins;
        int x1 = left + pw * (b + 1) / bins;
        int y = top + ph - (int) Math.round(ph * shares[k][b] / yMax);
        g.drawLine(px, py, x0, py);
        g.drawLine(x0, py, x0, y);
        g.drawLine(x0, y, x1, y);
        px = x1;
        py = y;
      }
      g.drawLine(px, py, px, top + ph);
      double median = percentile(series.get(name), 50);
      String label = String.format(Locale.ROOT, "%s (median %.1f ms)", name, median);
      int lx = left + pw / 2 - 60;
      g.fillRect(lx, top + 14 + 18 * k, 12, 12);
      g.setColor(Color.BLACK);
      g.drawString(label, lx + 18, top + 25 + 18 * k);
      k++;
    }
    g.dispose();
    ImageIO.write(img, "png", file.toFile());
  }
}
