package net.hydranet.hydraweb;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HttpDateTest {
  private static final DateTimeFormatter IMF =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", java.util.Locale.US)
          .withZone(ZoneOffset.UTC);

  @Test
  void shouldFormatAndParseAsTheJdkDoes() {
    Random rnd = new Random(9110);
    for (int i = 0; i < 100_000; i++) {
      long t = i == 0 ? 0 : (rnd.nextLong() & Long.MAX_VALUE) % 8_000_000_000L;
      String expected = IMF.format(Instant.ofEpochSecond(t));
      byte[] b = HttpDate.format(t);
      assertEquals(expected, new String(b, StandardCharsets.US_ASCII));
      assertEquals(t, HttpDate.parse(b, 0, b.length));
    }
  }

  @Test
  void shouldReadTheRfcExample() {
    byte[] b = "Sun, 06 Nov 1994 08:49:37 GMT".getBytes(StandardCharsets.US_ASCII);
    assertEquals(784111777L, HttpDate.parse(b, 0, b.length));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "Sunday, 06-Nov-94 08:49:37 GMT", // RFC 850: not read, the condition is ignored
        "Sun Nov  6 08:49:37 1994", // asctime
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Xyz 1994 08:49:37 GMT",
        "Sun, 32 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:49:37 GMT",
        "Sun, 06 Nov 1994 08:4x:37 GMT",
        "Sun, 06 Nov 1969 08:49:37 GMT",
        ""
      })
  void shouldRefuseWhatIsNotAnImfFixdate(String s) {
    byte[] b = s.getBytes(StandardCharsets.US_ASCII);
    assertEquals(-1, HttpDate.parse(b, 0, b.length));
  }
}
