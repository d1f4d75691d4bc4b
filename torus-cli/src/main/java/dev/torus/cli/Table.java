package dev.torus.cli;

import dev.torus.server.options.Json;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Prints rows as an aligned table (two spaces between columns), CSV, or JSON objects. */
public final class Table {
  private final List<String> header;
  private final List<List<String>> rows = new ArrayList<>();

  public Table(String... header) {
    this.header = List.of(header);
  }

  public Table row(Object... cells) {
    List<String> r = new ArrayList<>();
    for (Object c : cells) {
      r.add(String.valueOf(c));
    }
    rows.add(r);
    return this;
  }

  public void print(PrintWriter out, OutputFormat format) {
    switch (format) {
      case TABLE -> printTable(out);
      case CSV -> printCsv(out);
      case JSON -> printJson(out);
    }
    out.flush();
  }

  private void printTable(PrintWriter out) {
    int[] width = new int[header.size()];
    for (int i = 0; i < width.length; i++) {
      width[i] = header.get(i).length();
      for (List<String> r : rows) {
        width[i] = Math.max(width[i], r.get(i).length());
      }
    }
    line(out, header, width);
    rows.forEach(r -> line(out, r, width));
  }

  private static void line(PrintWriter out, List<String> cells, int[] width) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < cells.size(); i++) {
      String c = cells.get(i);
      sb.append(c);
      if (i < cells.size() - 1) {
        sb.append(" ".repeat(width[i] - c.length() + 2));
      }
    }
    out.println(sb);
  }

  private void printCsv(PrintWriter out) {
    out.println(String.join(",", header.stream().map(Table::csv).toList()));
    rows.forEach(r -> out.println(String.join(",", r.stream().map(Table::csv).toList())));
  }

  private static String csv(String cell) {
    return cell.contains(",") || cell.contains("\"") ? "\"" + cell.replace("\"", "\"\"") + "\"" : cell;
  }

  private void printJson(PrintWriter out) {
    out.println("[");
    for (int r = 0; r < rows.size(); r++) {
      StringBuilder sb = new StringBuilder("  {");
      for (int i = 0; i < header.size(); i++) {
        sb.append(i == 0 ? "" : ", ").append(Json.quote(header.get(i).toLowerCase(Locale.ROOT)))
            .append(": ").append(Json.quote(rows.get(r).get(i)));
      }
      out.println(sb.append(r == rows.size() - 1 ? "}" : "},"));
    }
    out.println("]");
  }

  /** How listings are printed. */
  public enum OutputFormat {
    TABLE,
    CSV,
    JSON
  }
}
