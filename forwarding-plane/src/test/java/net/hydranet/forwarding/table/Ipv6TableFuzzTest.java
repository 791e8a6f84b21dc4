package net.hydranet.forwarding.table;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.math.BigInteger;

/**
 * Coverage-guided differential fuzzing of {@link Ipv6RouteTable} against {@link
 * ReferenceIpv6RouteTable} (FUZZING.md): the fuzzer writes the script, addresses come from a few
 * bases it varies bit by bit, and small capacities make it reach "full".
 */
class Ipv6TableFuzzTest {
  @FuzzTest
  void ipv6RouteTable(FuzzedDataProvider data) {
    int capacity = data.consumeInt(1, 64);
    Ipv6RouteTable table = new Ipv6RouteTable(capacity);
    ReferenceIpv6RouteTable reference = new ReferenceIpv6RouteTable(capacity);
    long[] bases = {0x2001_0002_0000_0001L, 0, -1L};
    for (int op = 0; op < 256 && data.remainingBytes() > 0; op++) {
      String where = "operation " + op;
      long high =
          bases[data.consumeInt(0, 2)] ^ (data.consumeBoolean() ? 1L << data.consumeInt(0, 63) : 0);
      long low =
          bases[data.consumeInt(0, 2)] ^ (data.consumeBoolean() ? 1L << data.consumeInt(0, 63) : 0);
      BigInteger address = ReferenceIpv6RouteTable.address(high, low);
      int length = data.consumeInt(-1, 129);
      switch (data.consumeInt(0, 2)) {
        case 0 -> {
          long hop = data.consumeLong();
          int ifIndex = data.consumeInt(0, 3);
          boolean rejected = false;
          try {
            reference.add(address, length, ReferenceIpv6RouteTable.address(0, hop), ifIndex);
          } catch (IllegalStateException e) {
            rejected = true;
          }
          boolean fastRejected = false;
          try {
            table.add(high, low, length, 0, hop, ifIndex);
          } catch (IllegalStateException e) {
            fastRejected = true;
          }
          assertEquals(rejected, fastRejected, where + ": add rejected");
        }
        case 1 ->
            assertEquals(reference.remove(address, length), table.remove(high, low, length), where);
        default -> {
          ReferenceIpv6RouteTable.Route expected = reference.lookup(address);
          int route = table.lookup(high, low);
          assertEquals(expected == null, route == Ipv6RouteTable.NOT_FOUND, where + ": found");
          if (expected != null) {
            assertEquals(expected.prefixLength(), table.prefixLength(route), where);
            assertEquals(
                expected.prefix(),
                ReferenceIpv6RouteTable.address(table.prefixHigh(route), table.prefixLow(route)),
                where);
            assertEquals(
                expected.nextHop(), ReferenceIpv6RouteTable.address(0, table.nextHopLow(route)));
            assertEquals(expected.interfaceIndex(), table.interfaceIndex(route), where);
          }
        }
      }
      assertEquals(reference.size(), table.size(), where + ": size");
    }
  }
}
