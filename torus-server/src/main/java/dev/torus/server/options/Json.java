package dev.torus.server.options;

import dev.torus.TorusExceptions;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The little JSON the command-line tools read and write: their config file and {@code -o json}
 * listings. Parsing gives {@code Map<String, Object>} (in file order), {@code List<Object>},
 * {@code String}, {@link BigDecimal}, {@code Boolean} or {@link #NULL}; a syntax error fails with
 * {@code INVALID_ARGUMENT} naming the source, line and column. Thread-safe (static methods).
 */
public final class Json {
  /** JSON's {@code null}, which a {@code Map} value cannot hold. */
  public static final Object NULL = new Object() {
    @Override
    public String toString() {
      return "null";
    }
  };

  /*
   * Why hand-written: the tools' config file is a few nested objects of strings, and the only JSON
   * library on the class path is Gson, a transitive dependency of jetcd that could go away with any
   * jetcd upgrade. A recursive-descent parser of the full grammar (RFC 8259) is smaller than the
   * glue a library would need, and its errors can point at a line and column.
   */
  private final String text;
  private final String source;
  private int pos;

  private Json(String text, String source) {
    this.text = text;
    this.source = source;
  }

  /** Parses one JSON value that fills {@code text}; {@code source} names it in errors. */
  public static Object parse(String text, String source) {
    Json p = new Json(text, source);
    p.skipSpace();
    Object value = p.value();
    p.skipSpace();
    if (p.pos < text.length()) {
      throw p.error("unexpected '" + text.charAt(p.pos) + "' after the end of the JSON value");
    }
    return value;
  }

  /** {@code s} as a JSON string literal, quotes included. */
  public static String quote(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }

  /**
   * Writes nested maps with string keys and string leaves, one member per line and indented by
   * tabs (the layout of the original Torus' config file), with a final newline.
   */
  public static String write(Map<String, ?> value) {
    StringBuilder sb = new StringBuilder();
    write(value, sb, 0);
    return sb.append('\n').toString();
  }

  private static void write(Object value, StringBuilder sb, int depth) {
    if (value instanceof String s) {
      sb.append(quote(s));
      return;
    }
    if (!(value instanceof Map<?, ?> map)) {
      throw new IllegalArgumentException("cannot write " + value.getClass().getName() + " as JSON");
    }
    sb.append('{');
    String separator = "\n";
    for (Map.Entry<?, ?> e : map.entrySet()) {
      sb.append(separator).append("\t".repeat(depth + 1)).append(quote((String) e.getKey()))
          .append(": ");
      write(e.getValue(), sb, depth + 1);
      separator = ",\n";
    }
    if (!map.isEmpty()) {
      sb.append('\n').append("\t".repeat(depth));
    }
    sb.append('}');
  }

  private Object value() {
    if (pos >= text.length()) {
      throw error("unexpected end of file, expected a value");
    }
    char c = text.charAt(pos);
    return switch (c) {
      case '{' -> object();
      case '[' -> array();
      case '"' -> string();
      case 't' -> literal("true", Boolean.TRUE);
      case 'f' -> literal("false", Boolean.FALSE);
      case 'n' -> literal("null", NULL);
      default -> {
        if (c == '-' || (c >= '0' && c <= '9')) {
          yield number();
        }
        throw error("unexpected '" + c + "', expected a value");
      }
    };
  }

  private Map<String, Object> object() {
    Map<String, Object> map = new LinkedHashMap<>();
    pos++; // '{'
    skipSpace();
    if (peek('}')) {
      pos++;
      return map;
    }
    while (true) {
      skipSpace();
      if (!peek('"')) {
        throw error("expected a member name in double quotes");
      }
      int keyAt = pos;
      String key = string();
      skipSpace();
      expect(':');
      skipSpace();
      if (map.put(key, value()) != null) {
        pos = keyAt;
        throw error("duplicate member \"" + key + "\"");
      }
      skipSpace();
      if (peek(',')) {
        pos++;
      } else if (peek('}')) {
        pos++;
        return map;
      } else {
        throw error("expected ',' or '}'");
      }
    }
  }

  private List<Object> array() {
    List<Object> list = new ArrayList<>();
    pos++; // '['
    skipSpace();
    if (peek(']')) {
      pos++;
      return list;
    }
    while (true) {
      skipSpace();
      list.add(value());
      skipSpace();
      if (peek(',')) {
        pos++;
      } else if (peek(']')) {
        pos++;
        return list;
      } else {
        throw error("expected ',' or ']'");
      }
    }
  }

  private String string() {
    StringBuilder sb = new StringBuilder();
    pos++; // '"'
    while (true) {
      if (pos >= text.length()) {
        throw error("unterminated string");
      }
      char c = text.charAt(pos);
      if (c == '"') {
        pos++;
        return sb.toString();
      }
      if (c < 0x20) {
        throw error("control character in a string (write it as an escape, e.g. \\n)");
      }
      if (c != '\\') {
        sb.append(c);
        pos++;
        continue;
      }
      if (pos + 1 >= text.length()) {
        throw error("unterminated string");
      }
      char e = text.charAt(pos + 1);
      switch (e) {
        case '"', '\\', '/' -> sb.append(e);
        case 'b' -> sb.append('\b');
        case 'f' -> sb.append('\f');
        case 'n' -> sb.append('\n');
        case 'r' -> sb.append('\r');
        case 't' -> sb.append('\t');
        case 'u' -> {
          if (pos + 6 > text.length()
              || !text.substring(pos + 2, pos + 6).matches("[0-9a-fA-F]{4}")) {
            throw error("\\u needs four hex digits");
          }
          sb.append((char) Integer.parseInt(text.substring(pos + 2, pos + 6), 16));
          pos += 4;
        }
        default -> throw error("unknown escape \\" + e);
      }
      pos += 2;
    }
  }

  private BigDecimal number() {
    int start = pos;
    while (pos < text.length() && "+-0123456789.eE".indexOf(text.charAt(pos)) >= 0) {
      pos++;
    }
    String n = text.substring(start, pos);
    if (!n.matches("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?")) {
      pos = start;
      throw error("malformed number '" + n + "'");
    }
    return new BigDecimal(n);
  }

  private Object literal(String word, Object value) {
    if (!text.startsWith(word, pos)) {
      throw error("unexpected '" + text.charAt(pos) + "', expected a value");
    }
    pos += word.length();
    return value;
  }

  private void skipSpace() {
    while (pos < text.length() && " \t\r\n".indexOf(text.charAt(pos)) >= 0) {
      pos++;
    }
  }

  private boolean peek(char c) {
    return pos < text.length() && text.charAt(pos) == c;
  }

  private void expect(char c) {
    if (!peek(c)) {
      throw error("expected '" + c + "'");
    }
    pos++;
  }

  private RuntimeException error(String message) {
    int line = 1;
    int lineStart = 0;
    for (int i = 0; i < Math.min(pos, text.length()); i++) {
      if (text.charAt(i) == '\n') {
        line++;
        lineStart = i + 1;
      }
    }
    return TorusExceptions.invalid(source + ":" + line + ":" + (pos - lineStart + 1)
        + ": malformed JSON: " + message);
  }
}
