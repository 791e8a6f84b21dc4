package net.hydranet.hydraweb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class WebObjectTest {
  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void shouldTagEqualBytesAlikeAndEncodeItsHeaders() {
    WebObject a = WebObject.of("/a", utf8("hello"), "text/plain", 784111777L, 1);
    WebObject b = WebObject.of("/b", utf8("hello"), "text/html", 0, 7);
    WebObject c = WebObject.of("/a", utf8("hellO"), "text/plain", 784111777L, 2);
    assertEquals(a.etag(), b.etag());
    assertNotEquals(a.etag(), c.etag());
    assertEquals(
        "Server: HydraWeb\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nETag: "
            + a.etag()
            + "\r\nLast-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\nAccept-Ranges: bytes\r\n\r\n",
        new String(a.head200(), StandardCharsets.US_ASCII));
  }

  @Test
  void shouldRefuseWhatAHeaderCannotCarry() {
    assertThrows(
        IllegalArgumentException.class,
        () -> WebObject.of("/a", new byte[0], "text/plain\r\nX-Evil: 1", 0, 1));
    assertThrows(
        IllegalArgumentException.class, () -> WebObject.of("a", new byte[0], "text/plain", 0, 1));
  }

  @Test
  void shouldFillTemplateSlotsInRotation() {
    WebObject t =
        WebObject.template(
            "/t", utf8("<p>{{banner}}</p>{{ x }}{{none}}{{banner}}{"), "text/html", 0, 1);
    assertNull(t.etag());
    Slots slots = new Slots();
    slots.put("banner", List.of("A", "BB"));
    assertEquals("<p>A</p>{{ x }}BB{", new String(t.render(slots), StandardCharsets.UTF_8));
    assertEquals("<p>A</p>{{ x }}BB{", new String(t.render(slots), StandardCharsets.UTF_8));
    slots.put("banner", List.of("C"));
    slots.put("none", List.of("!"));
    assertEquals("<p>C</p>{{ x }}!C{", new String(t.render(slots), StandardCharsets.UTF_8));
  }
}
