package net.hydranet.forwarding.table;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Test;

/**
 * Applies one seeded random script of puts, removes, weight changes, lookups, selects and counts to
 * {@link RedirectorTable} and {@link ReferenceRedirectorTable}; every answer must agree. The key
 * space (4096 keys) is larger than the capacity, so the script also runs the table full.
 */
class RedirectorTableDifferentialTest {
  private static final int OPERATIONS = 200_000;
  private static final int CAPACITY = 2_000;
  private static final int MAX_HOST_SERVERS = 4;
  private static final int[] PROTOCOLS = {6, 17};
  private static final int[] WEIGHTS = {0, 0, 1, 1, 2, 3, 7, 100, 65_535};

  private final Random random = new Random(0x4879_6472_614eL);
  private final RedirectorTable table = new RedirectorTable(CAPACITY, MAX_HOST_SERVERS);
  private final ReferenceRedirectorTable reference =
      new ReferenceRedirectorTable(CAPACITY, MAX_HOST_SERVERS);

  @Test
  void shouldAgreeWithTheReferenceOnEveryOperation() {
    int puts = 0;
    int rejected = 0;
    int selects = 0;
    for (int op = 0; op < OPERATIONS; op++) {
      final int address = 0xC6120000 + random.nextInt(64);
      final int protocol = PROTOCOLS[random.nextInt(PROTOCOLS.length)];
      final int port = random.nextInt(32);
      final String where = "operation " + op;
      final int dice = random.nextInt(100);
      if (dice < 30) {
        final int count = random.nextInt(MAX_HOST_SERVERS + 1 + (random.nextInt(50) == 0 ? 1 : 0));
        final int[] hosts = new int[count];
        final int[] weights = new int[count];
        for (int i = 0; i < count; i++) {
          hosts[i] = randomHostServer();
          weights[i] = randomWeight();
        }
        final int fast = outcome(() -> table.put(address, protocol, port, hosts, weights, count));
        final int slow =
            outcome(() -> reference.put(address, protocol, port, hosts, weights, count));
        assertEquals(slow == REJECTED, fast == REJECTED, where + ": put rejected");
        if (fast == REJECTED) {
          rejected++;
        } else {
          puts++;
          assertSameService(fast, slow, where);
        }
      } else if (dice < 45) {
        assertEquals(
            reference.remove(address, protocol, port),
            table.remove(address, protocol, port),
            where + ": remove");
      } else if (dice < 60) {
        final int host = randomHostServer();
        final int weight = randomWeight();
        final int fast =
            outcome(() -> table.setWeight(address, protocol, port, host, weight) ? 1 : 0);
        final int slow =
            outcome(() -> reference.setWeight(address, protocol, port, host, weight) ? 1 : 0);
        assertEquals(slow, fast, where + ": setWeight");
      } else {
        final int fast = table.lookup(address, protocol, port);
        final int slow = reference.lookup(address, protocol, port);
        assertEquals(
            slow == ReferenceRedirectorTable.NOT_FOUND,
            fast == RedirectorTable.NOT_FOUND,
            where + ": lookup found");
        if (fast != RedirectorTable.NOT_FOUND) {
          assertSameService(fast, slow, where);
          if (dice < 90) {
            for (int i = 0; i < 4; i++) {
              final int hash = random.nextInt();
              assertEquals(
                  reference.select(slow, hash), table.select(fast, hash), where + ": select");
              selects++;
            }
          } else {
            final int bytes = 40 + random.nextInt(1460);
            table.count(fast, bytes);
            reference.count(slow, bytes);
            assertEquals(reference.packets(slow), table.packets(fast), where + ": packets");
            assertEquals(reference.bytes(slow), table.bytes(fast), where + ": bytes");
          }
        }
      }
      assertEquals(reference.size(), table.size(), where + ": size");
    }
    assertEquals(reference.size(), visited().size());
    // The script must have exercised what it claims to.
    assertEquals(
        true, puts > 10_000 && rejected > 1_000 && selects > 100_000, puts + " " + rejected);
  }

  private static final int REJECTED = Integer.MIN_VALUE;

  private static int outcome(IntSupplier operation) {
    try {
      return operation.getAsInt();
    } catch (IllegalStateException e) {
      return REJECTED;
    }
  }

  private int randomHostServer() {
    return random.nextInt(200) == 0 ? 0 : 0x0A000001 + random.nextInt(8);
  }

  private int randomWeight() {
    final int r = random.nextInt(400);
    if (r == 0) {
      return -1;
    }
    if (r == 1) {
      return Integer.MAX_VALUE - 10;
    }
    return WEIGHTS[r % WEIGHTS.length];
  }

  private void assertSameService(int fast, int slow, String where) {
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

  private List<Integer> visited() {
    final List<Integer> services = new ArrayList<>();
    table.forEach(
        service -> {
          assertEquals(
              service,
              table.lookup(table.address(service), table.protocol(service), table.port(service)));
          services.add(service);
        });
    return services;
  }
}
