package net.hydranet.forwarding.table;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Coverage-guided differential fuzzing of the two clever tables against their references
 * (FUZZING.md): the fuzzer writes the operation script, small capacities make it reach "full", and
 * every answer of {@link RedirectorTable} and {@link RouteTable} must equal the reference's.
 */
class TableFuzzTest {
  private static final int REJECTED = Integer.MIN_VALUE;

  @FuzzTest
  void redirectorTable(FuzzedDataProvider data) {
    int capacity = data.consumeInt(1, 64);
    int maxHostServers = data.consumeInt(1, 8);
    RedirectorTable table = new RedirectorTable(capacity, maxHostServers);
    ReferenceRedirectorTable reference = new ReferenceRedirectorTable(capacity, maxHostServers);
    for (int op = 0; op < 256 && data.remainingBytes() > 0; op++) {
      String where = "operation " + op;
      int address = 0xC6120000 + data.consumeInt(0, 15);
      int protocol = data.pickValue(new int[] {6, 17, 0, 255, 256, -1});
      int port = data.consumeInt(-1, 65536);
      switch (data.consumeInt(0, 4)) {
        case 0 -> {
          int count = data.consumeInt(0, maxHostServers + 1);
          int[] hosts = new int[count];
          int[] weights = new int[count];
          for (int i = 0; i < count; i++) {
            hosts[i] = data.consumeInt(0, 8);
            weights[i] = data.consumeInt(-1, Integer.MAX_VALUE);
          }
          int given = data.consumeInt(0, count + 1);
          int fast = outcome(() -> table.put(address, protocol, port, hosts, weights, given));
          int slow = outcome(() -> reference.put(address, protocol, port, hosts, weights, given));
          assertEquals(slow == REJECTED, fast == REJECTED, where + ": put rejected");
          if (fast != REJECTED) {
            assertSame(table, reference, fast, slow, where);
          }
        }
        case 1 ->
            assertEquals(
                reference.remove(address, protocol, port),
                table.remove(address, protocol, port),
                where + ": remove");
        case 2 -> {
          int host = data.consumeInt(0, 8);
          int weight = data.consumeInt(-1, Integer.MAX_VALUE);
          assertEquals(
              outcome(() -> reference.setWeight(address, protocol, port, host, weight) ? 1 : 0),
              outcome(() -> table.setWeight(address, protocol, port, host, weight) ? 1 : 0),
              where + ": setWeight");
        }
        default -> {
          int fast = table.lookup(address, protocol, port);
          int slow = reference.lookup(address, protocol, port);
          assertEquals(
              slow == ReferenceRedirectorTable.NOT_FOUND,
              fast == RedirectorTable.NOT_FOUND,
              where + ": lookup found");
          if (fast != RedirectorTable.NOT_FOUND) {
            assertSame(table, reference, fast, slow, where);
            int hash = data.consumeInt();
            assertEquals(
                reference.select(slow, hash), table.select(fast, hash), where + ": select");
            int bytes = data.consumeInt(0, 65535);
            table.count(fast, bytes);
            reference.count(slow, bytes);
          }
        }
      }
      assertEquals(reference.size(), table.size(), where + ": size");
    }
  }

  @FuzzTest
  void routeTable(FuzzedDataProvider data) {
    int capacity = data.consumeInt(1, 64);
    RouteTable table = new RouteTable(capacity);
    ReferenceRouteTable reference = new ReferenceRouteTable(capacity);
    int base = data.consumeInt();
    for (int op = 0; op < 256 && data.remainingBytes() > 0; op++) {
      String where = "operation " + op;
      int address = data.consumeBoolean() ? base ^ data.consumeInt(0, 0xFFFF) : data.consumeInt();
      int length = data.consumeInt(-1, 33);
      switch (data.consumeInt(0, 3)) {
        case 0 -> {
          int nextHop = data.consumeInt();
          int interfaceIndex = data.consumeInt(0, 3);
          boolean rejected = false;
          try {
            reference.add(address, length, nextHop, interfaceIndex);
          } catch (IllegalStateException e) {
            rejected = true;
          }
          int route = outcome(() -> table.add(address, length, nextHop, interfaceIndex));
          assertEquals(rejected, route == REJECTED, where + ": add rejected");
        }
        case 1 ->
            assertEquals(
                reference.remove(address, length), table.remove(address, length), where + ": rm");
        default -> {
          ReferenceRouteTable.Route expected = reference.lookup(address);
          int route = table.lookup(address);
          assertEquals(expected == null, route == RouteTable.NOT_FOUND, where + ": found");
          if (expected != null) {
            assertEquals(expected.prefixLength(), table.prefixLength(route), where + ": length");
            assertEquals(expected.prefix(), table.prefix(route), where + ": prefix");
            assertEquals(expected.nextHop(), table.nextHop(route), where + ": next hop");
            assertEquals(expected.interfaceIndex(), table.interfaceIndex(route), where + ": if");
          }
        }
      }
      assertEquals(reference.size(), table.size(), where + ": size");
    }
  }

  private static void assertSame(
      RedirectorTable table, ReferenceRedirectorTable reference, int fast, int slow, String where) {
    assertEquals(reference.address(slow), table.address(fast), where + ": address");
    assertEquals(reference.protocol(slow), table.protocol(fast), where + ": protocol");
    assertEquals(reference.port(slow), table.port(fast), where + ": port");
    assertEquals(reference.hostServerCount(slow), table.hostServerCount(fast), where + ": count");
    for (int i = 0; i < table.hostServerCount(fast); i++) {
      assertEquals(reference.hostServer(slow, i), table.hostServer(fast, i), where + ": host");
      assertEquals(reference.weight(slow, i), table.weight(fast, i), where + ": weight");
    }
    assertEquals(reference.packets(slow), table.packets(fast), where + ": packets");
    assertEquals(reference.bytes(slow), table.bytes(fast), where + ": bytes");
  }

  private static int outcome(java.util.function.IntSupplier operation) {
    try {
      return operation.getAsInt();
    } catch (IllegalStateException e) {
      return REJECTED;
    }
  }
}
