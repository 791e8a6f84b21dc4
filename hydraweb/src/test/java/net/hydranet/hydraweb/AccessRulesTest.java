package net.hydranet.hydraweb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AccessRulesTest {
  private static final AccessRules RULES =
      AccessRules.parse(
          """
          # the origin's rules for its replica
          deny  10.1.0.0/16   /private/   # one department may not
          allow 10.0.0.0/8    /private/
          deny  0.0.0.0/0     /private/
          deny  192.0.2.7                 # one host, everything
          """);

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
    "10.1.2.3, /private/a, false",
    "10.2.2.3, /private/a, true",
    "11.0.0.1, /private/a, false",
    "11.0.0.1, /private, true",
    "11.0.0.1, /public, true",
    "192.0.2.7, /public, false",
    "192.0.2.8, /public, true",
  })
  void shouldLetTheFirstMatchDecideAndAllowByDefault(String client, String path, boolean allowed) {
    assertEquals(allowed, RULES.allows(client, path));
  }

  @Test
  void shouldMatchOnlySlashZeroForClientsWithoutAnAddress() {
    assertFalse(RULES.allows(AccessRules.UNKNOWN, 0, 0, PathKey.of("/private/x")));
    assertTrue(RULES.allows(AccessRules.UNKNOWN, 0, 0, PathKey.of("/public")));
  }

  private static final AccessRules DUAL =
      AccessRules.parse(
          """
          deny  2001:2:0:1::/64     /private/   # the client LAN's IPv6 side
          allow 2001:2::/48         /private/
          deny  198.18.1.0/24       /private/   # its IPv4 side
          deny  2001:2:0:9::7                   # one host, everything
          deny  0.0.0.0/0           /secret/    # everyone, IPv6 clients too
          """);

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
    "2001:2:0:1::10, /private/a, false",
    "2001:2:0:1:ffff:ffff:ffff:ffff, /private/a, false",
    "2001:2:0:2::10, /private/a, true",
    "2001:3::1, /private/a, true", // no rule matches: allowed
    "2001:2:0:9::7, /public, false",
    "2001:2:0:9::8, /public, true",
    "198.18.1.10, /private/a, false",
    "198.18.2.10, /private/a, true",
    "2001:2:0:2::10, /secret/x, false",
    "198.18.2.10, /secret/x, false",
    // An IPv4 prefix never covers an IPv6 client whose low 32 bits happen to match.
    "::c612:10a, /private/a, true",
  })
  void shouldMatchIpv6ClientsByTheirOwnPrefixes(String client, String path, boolean allowed) {
    assertEquals(allowed, DUAL.allows(client, path));
  }

  @Test
  void shouldPrintIpv6RulesInTheirShortForm() {
    assertEquals(
        "deny 2001:2:0:1::/64 /private/",
        AccessRules.Rule.deny("2001:2:0:1::99/64", "/private/").toString());
    assertEquals("allow ::/0 /", AccessRules.Rule.allow("::/0", "/").toString());
    assertEquals("deny 2001:2:0:9::7/128 /", DUAL.rules().get(3).toString());
    assertThrows(IllegalArgumentException.class, () -> AccessRules.parse("deny 2001:2::/129"));
    assertThrows(IllegalArgumentException.class, () -> AccessRules.parse("deny 2001:2::zz/64"));
    assertThrows(IllegalArgumentException.class, () -> AccessRules.parse("deny fe80::1%eth0/64"));
  }

  @Test
  void shouldNormaliseTheNetworkAndPrintRules() {
    AccessRules.Rule r = AccessRules.Rule.deny("10.1.2.3/16", "/");
    assertEquals("deny 10.1.0.0/16 /", r.toString());
    assertEquals(4, RULES.rules().size());
  }

  @Test
  void shouldNameTheLineThatIsWrong() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> AccessRules.parse("allow 10.0.0.0/8\npermit 1.2.3.4/32\n"));
    assertTrue(e.getMessage().startsWith("access rules line 2:"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> AccessRules.parse("deny 10.0.0.0/33"));
    assertThrows(IllegalArgumentException.class, () -> AccessRules.parse("deny 10.0.0/8"));
    assertThrows(IllegalArgumentException.class, () -> AccessRules.parse("deny 10.0.0.0/8 x"));
  }
}
