package net.hydranet.control.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.List;
import java.util.Random;
import java.util.Set;
import net.hydranet.control.wire.Addresses;
import net.hydranet.control.wire.Service;
import org.junit.jupiter.api.Test;

/** IPv6 authorisation rules: prefix matching against a BigInteger reference, families apart. */
class AuthorisationsTest {
  private static final int HS = Addresses.parse("192.0.2.1");

  private static Service v6(String address) {
    long[] a = Addresses.parseIpv6(address);
    return Service.ipv6(a[0], a[1], 6, 80);
  }

  private static BigInteger big(long high, long low) {
    return new BigInteger(1, java.nio.ByteBuffer.allocate(16).putLong(high).putLong(low).array());
  }

  @Test
  void shouldMatchIpv6PrefixesOfEveryLengthAsTheReferenceDoes() {
    Random random = new Random(21);
    for (int i = 0; i < 20_000; i++) {
      long ph = random.nextLong();
      long pl = random.nextLong();
      int length = random.nextInt(129);
      // Half the addresses share the prefix's first bits, so both answers are exercised.
      long ah = random.nextBoolean() ? ph ^ (random.nextLong() >>> random.nextInt(64)) : ph;
      long al = random.nextBoolean() ? pl ^ (random.nextLong() >>> random.nextInt(64)) : pl;
      if (random.nextInt(4) == 0) {
        ah = random.nextLong();
      }
      Authorisations.Rule6 rule = new Authorisations.Rule6(ph, pl, length, Set.of(HS));
      BigInteger mask =
          length == 0
              ? BigInteger.ZERO
              : BigInteger.ONE.shiftLeft(128).subtract(BigInteger.ONE.shiftLeft(128 - length));
      boolean expected = big(ph, pl).and(mask).equals(big(ah, al).and(mask));
      assertEquals(expected, rule.covers(ah, al), i + ": /" + length);
    }
  }

  @Test
  void shouldKeepTheFamiliesApart() {
    long[] p = Addresses.parseIpv6("2001:2::");
    Authorisations auth =
        new Authorisations(
            List.of(new Authorisations.Rule(0, 0, Set.of(HS))), // every IPv4 origin
            List.of(new Authorisations.Rule6(p[0], p[1], 48, Set.of(HS))));
    assertTrue(auth.allowed(v6("2001:2::10"), HS));
    assertTrue(auth.allowed(v6("2001:2:0:ffff::1"), HS));
    assertFalse(auth.allowed(v6("2001:3::10"), HS), "outside the /48");
    assertFalse(auth.allowed(v6("2001:2::10"), Addresses.parse("192.0.2.2")), "another host");
    assertTrue(auth.allowed(Service.ipv4(Addresses.parse("198.18.2.10"), 6, 80), HS));
    Authorisations ipv4Only =
        new Authorisations(List.of(new Authorisations.Rule(0, 0, Set.of(HS))));
    assertFalse(ipv4Only.allowed(v6("2001:2::10"), HS), "0.0.0.0/0 covers no IPv6 origin");
    assertThrows(
        IllegalArgumentException.class, () -> new Authorisations.Rule6(0, 0, 129, Set.of()));
  }

  @Test
  void shouldFormatAndParseIpv6AsRfc5952Says() {
    for (String s :
        List.of("2001:2::10", "2001:db8::1:0:0:1", "2001:0:0:1::1", "::", "::1", "fe80::", "1::")) {
      long[] a = Addresses.parseIpv6(s);
      assertEquals(s, Addresses.formatIpv6(a[0], a[1]));
    }
    long[] a = Addresses.parseIpv6("2001:0DB8:0000:0000:0001:0000:0000:0001");
    assertEquals("2001:db8::1:0:0:1", Addresses.formatIpv6(a[0], a[1]), "the first longest run");
    for (String bad : List.of("", "1.2.3.4", "2001::1::2", "12345::", "1:2:3:4:5:6:7:8:9", "g::")) {
      assertThrows(IllegalArgumentException.class, () -> Addresses.parseIpv6(bad), bad);
    }
  }
}
