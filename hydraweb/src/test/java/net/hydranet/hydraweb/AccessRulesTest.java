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
  void shouldMatchOnlySlashZeroForClientsWithoutIpv4() {
    assertFalse(RULES.allows(-1, PathKey.of("/private/x")));
    assertTrue(RULES.allows(-1, PathKey.of("/public")));
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
