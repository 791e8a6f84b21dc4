package net.hydranet.forwarding.table;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import net.hydranet.forwarding.wire.Ipv6Header;
import org.junit.jupiter.api.Test;

class Ipv6RouteTableTest {
  private static long[] a(String text) {
    return Ipv6Header.parseAddress(text);
  }

  private static int add(Ipv6RouteTable t, String prefix, int length, String via, int ifIndex) {
    long[] p = a(prefix);
    long[] h = a(via);
    return t.add(p[0], p[1], length, h[0], h[1], ifIndex);
  }

  private static int lookup(Ipv6RouteTable t, String address) {
    long[] x = a(address);
    return t.lookup(x[0], x[1]);
  }

  @Test
  void shouldPreferTheLongestPrefixAcrossBothHalves() {
    Ipv6RouteTable t = new Ipv6RouteTable(16);
    int defaultRoute = add(t, "::", 0, "2001:2:0:2::10", 1);
    int site = add(t, "2001:2::", 48, "2001:2:0:2::20", 1);
    int link = add(t, "2001:2:0:1::", 64, "::", 0);
    int half = add(t, "2001:2:0:1:8000::", 65, "::", 2);
    int host = add(t, "2001:2:0:1::10", 128, "::", 3);
    assertEquals(host, lookup(t, "2001:2:0:1::10"));
    assertEquals(link, lookup(t, "2001:2:0:1::11"));
    assertEquals(half, lookup(t, "2001:2:0:1:8000::11"));
    assertEquals(site, lookup(t, "2001:2:0:3::1"));
    assertEquals(defaultRoute, lookup(t, "2001:3::1"));
    assertTrue(t.isConnected(link));
    assertFalse(t.isConnected(site));
    assertTrue(t.remove(a("2001:2:0:1::10")[0], a("2001:2:0:1::10")[1], 128));
    assertEquals(link, lookup(t, "2001:2:0:1::10"));
    assertTrue(t.remove(0, 0, 0));
    assertEquals(Ipv6RouteTable.NOT_FOUND, lookup(t, "2001:3::1"));
  }

  @Test
  void shouldClearHostBitsReplaceInPlaceAndRejectWhenFull() {
    Ipv6RouteTable t = new Ipv6RouteTable(2);
    int r = add(t, "2001:2:0:1::77", 64, "::", 0);
    assertEquals(a("2001:2:0:1::")[1], t.prefixLow(r));
    assertEquals(r, add(t, "2001:2:0:1::", 64, "fe80::1", 4));
    assertEquals(4, t.interfaceIndex(r));
    assertEquals(a("fe80::1")[0], t.nextHopHigh(r));
    add(t, "2001:2:0:2::", 64, "::", 0);
    assertThrows(IllegalStateException.class, () -> add(t, "2001:2:0:3::", 64, "::", 0));
    assertThrows(IllegalStateException.class, () -> add(t, "2001:2::", 129, "::", 0));
    assertFalse(t.remove(0, 0, -1));
    assertEquals(2, t.size());
  }

  @Test
  void shouldMaskEveryLength() {
    assertEquals(0, Ipv6RouteTable.maskHigh(0));
    assertEquals(0, Ipv6RouteTable.maskLow(64));
    assertEquals(-1L, Ipv6RouteTable.maskHigh(64));
    assertEquals(0x8000_0000_0000_0000L, Ipv6RouteTable.maskHigh(1));
    assertEquals(0x8000_0000_0000_0000L, Ipv6RouteTable.maskLow(65));
    assertEquals(-1L, Ipv6RouteTable.maskLow(128));
    assertEquals(-2L, Ipv6RouteTable.maskLow(127));
  }

  /** The key map against a HashMap, small enough that probe runs wrap and deletions shift. */
  @Test
  void shouldKeepTheKeyMapEqualToAHashMap() {
    Random random = new Random(42);
    Ipv6KeyMap map = new Ipv6KeyMap(48);
    Map<String, Integer> reference = new HashMap<>();
    for (int op = 0; op < 200_000; op++) {
      long high = random.nextInt(8);
      long low = random.nextInt(16);
      int tag = random.nextInt(2);
      String key = high + "/" + low + "/" + tag;
      int dice = random.nextInt(3);
      if (dice == 0) {
        int value = random.nextInt(1000);
        if (reference.size() == 48 && !reference.containsKey(key)) {
          assertThrows(IllegalStateException.class, () -> map.put(high, low, tag, value));
        } else {
          Integer old = reference.put(key, value);
          assertEquals(old == null ? Ipv6KeyMap.MISSING : old, map.put(high, low, tag, value));
        }
      } else if (dice == 1) {
        Integer old = reference.remove(key);
        assertEquals(old == null ? Ipv6KeyMap.MISSING : old, map.remove(high, low, tag));
      } else {
        Integer v = reference.get(key);
        assertEquals(v == null ? Ipv6KeyMap.MISSING : v, map.get(high, low, tag));
      }
      assertEquals(reference.size(), map.size());
    }
  }
}
