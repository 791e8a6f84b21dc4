package net.hydranet.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Origin addresses of both families: literals only, one spelling each, brackets where due. */
class OriginAddressTest {
  @ParameterizedTest
  @CsvSource({
    "198.18.2.10, 198.18.2.10",
    "2001:2:0:2:0:0:0:10, 2001:2:0:2::10",
    "2001:0002:0000:0000:0001:0000:0000:0001, 2001:2::1:0:0:1",
    "2001:2:0:0:1:0:0:0, 2001:2:0:0:1::", // the longer run of zeros is the "::"
    "2001:2:1:1:1:1:1:1, 2001:2:1:1:1:1:1:1",
    "2001:2:0:1:1:1:1:1, 2001:2:0:1:1:1:1:1",
    "2001:DB8::AB, 2001:db8::ab",
  })
  void shouldWriteEachAddressOneWay(String in, String text) {
    assertEquals(text, OriginAddress.text(OriginAddress.parse(in)));
  }

  @Test
  void shouldBracketIpv6InHostAndPort() {
    assertEquals(
        "[2001:2:0:2::10]:80", OriginAddress.hostPort(OriginAddress.parse("2001:2:0:2::10"), 80));
    assertEquals("198.18.2.10:80", OriginAddress.hostPort(OriginAddress.parse("198.18.2.10"), 80));
    assertEquals("[2001:2::10]", OriginAddress.host(OriginAddress.parse("2001:2::10")));
  }

  @Test
  void shouldNeverAskTheNameServiceForAName() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> OriginAddress.parse("localhost"));
    assertTrue(e.getMessage().contains("not an IPv4 address"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> OriginAddress.parse("dead:beef:zz::1"));
    assertThrows(IllegalArgumentException.class, () -> OriginAddress.parseIpv6(".:1"));
  }

  @Test
  void shouldMatchPrefixesOfEitherFamily() throws Exception {
    OriginAddress.Prefix v4 = OriginAddress.Prefix.parse("198.18.2.0/28");
    OriginAddress.Prefix v6 = OriginAddress.Prefix.parse("2001:2:0:2::/64");
    InetAddress a4 = OriginAddress.parse("198.18.2.10");
    InetAddress a6 = OriginAddress.parse("2001:2:0:2::10");
    assertTrue(v4.contains(a4));
    assertFalse(v4.contains(OriginAddress.parse("198.18.2.16")));
    assertFalse(v4.contains(a6), "an IPv6 address is in no IPv4 prefix");
    assertTrue(v6.contains(a6));
    assertFalse(v6.contains(OriginAddress.parse("2001:2:0:3::10")));
    assertFalse(v6.contains(a4));
    assertTrue(OriginAddress.Prefix.parse("2001:2:0:2::10").contains(a6), "one address: /128");
    assertEquals(128, OriginAddress.Prefix.parse("2001:2:0:2::10").length());
    assertTrue(OriginAddress.Prefix.parse("0.0.0.0/0").contains(a4));
    assertTrue(OriginAddress.Prefix.parse("2001:2::/33").contains(a6));
    assertFalse(OriginAddress.Prefix.parse("2001:2:8000::/33").contains(a6));
    assertEquals("2001:2:0:2::/64", v6.toString());
  }

  @Test
  void shouldRefusePrefixesWithHostBitsOrBadLengths() {
    for (String bad :
        new String[] {
          "198.18.2.1/24", "2001:2:0:2::1/64", "2001:2::/129", "198.18.2.0/33", "2001:2::/x"
        }) {
      assertThrows(IllegalArgumentException.class, () -> OriginAddress.Prefix.parse(bad), bad);
    }
  }
}
