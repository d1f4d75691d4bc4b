package dev.torus.server.options;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torus.ErrorCode;
import dev.torus.TorusException;
import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

final class JsonTest {
  @Test
  void parsesTheWholeGrammar() {
    Object v = Json.parse(" {\"a\": [1, -2.5e3, true, false, null], \"b\": {},\n \"c\": []} ", "t");
    assertThat(v).isEqualTo(Map.of("a", List.of(new BigDecimal("1"), new BigDecimal("-2.5e3"),
        true, false, Json.NULL), "b", Map.of(), "c", List.of()));
  }

  @Test
  void stringEscapesRoundTrip() {
    String nasty = "q\" b\\ s/ \b\f\n\r\t \u0001 é ☃ \uD83D\uDE00";
    assertThat(Json.parse(Json.quote(nasty), "t")).isEqualTo(nasty);
    assertThat(Json.parse("\"\\u00e9\\/\"", "t")).isEqualTo("é/");
  }

  @Test
  void writesTabIndentedObjectsInOrder() {
    Map<String, Object> inner = new LinkedHashMap<>();
    inner.put("z", "1");
    inner.put("a", "x\"y");
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("p", inner);
    root.put("e", Map.of());
    String text = Json.write(root);
    assertThat(text).isEqualTo("{\n\t\"p\": {\n\t\t\"z\": \"1\",\n\t\t\"a\": \"x\\\"y\"\n\t},\n"
        + "\t\"e\": {}\n}\n");
    assertThat(Json.parse(text, "t")).isEqualTo(root);
  }

  @Test
  void syntaxErrorsNameTheSourceLineAndColumn() {
    assertError("{\n  \"a\": \"b\"\n  \"c\": 1\n}",
        "f.json:3:3: malformed JSON: expected ',' or '}'");
    assertError("{\"a\": tru}", "f.json:1:7: malformed JSON: unexpected 't', expected a value");
    assertError("{\"a\": \"b", "f.json:1:9: malformed JSON: unterminated string");
    assertError("{\"a\": 1, \"a\": 2}", "f.json:1:10: malformed JSON: duplicate member \"a\"");
    assertError("{\"a\": 01}", "f.json:1:7: malformed JSON: malformed number '01'");
    assertError("{\"a\": \"\\x\"}", "f.json:1:8: malformed JSON: unknown escape \\x");
    assertError("{} {}", "f.json:1:4: malformed JSON: unexpected '{' after the end");
    assertError("", "f.json:1:1: malformed JSON: unexpected end of file");
    assertError("{a: 1}", "f.json:1:2: malformed JSON: expected a member name in double quotes");
    assertError("[1 2]", "f.json:1:4: malformed JSON: expected ',' or ']'");
    assertError("\"tab\there\"", "f.json:1:5: malformed JSON: control character");
  }

  private static void assertError(String text, String message) {
    assertThatThrownBy(() -> Json.parse(text, "f.json")).isInstanceOf(TorusException.class)
        .hasMessageStartingWith(message)
        .satisfies(e -> assertThat(((TorusException) e).code())
            .isEqualTo(ErrorCode.INVALID_ARGUMENT));
  }
}
