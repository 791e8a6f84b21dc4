package net.hydranet.hostserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import org.agrona.DirectBuffer;
import org.junit.jupiter.api.Test;

/**
 * When the main thread gives a virtual host its link: once the neighbour table holds its resolved
 * MAC on its veth, for IPv4 and IPv6 alike, and taken back when the veth is replaced or the virtual
 * host goes. The kernel is faked here (interfaces, neighbour table, rings); NeighboursTest reads
 * the real table.
 */
class VirtualHostLinkScanTest {
  private static final int ORIGIN = Ipv4Header.parseAddress("198.18.2.10");
  private static final long[] ORIGIN6 = Ipv6Header.parseAddress("2001:2::10");
  private static final String LINK = VirtualHostDirectory.hostLink(ORIGIN);
  private static final String LINK6 = VirtualHostDirectory.hostLink6(ORIGIN6[0], ORIGIN6[1]);
  private static final byte[] MAC = {2, 0, 0, 0, 0, 6};

  private final Map<String, Integer> interfaces = new HashMap<>();
  private final List<Neighbours.Entry> table = new ArrayList<>();
  private final List<String> opened = new ArrayList<>();
  private int dumps;
  private boolean dumpFails;
  private final List<String> asked = new ArrayList<>();
  private boolean kernelAnswers;
  private boolean resolveFails;
  private final HostServerPath path =
      new HostServerPath(
          Ipv4Header.parseAddress("198.18.1.20"),
          new Counters(HostServerCounter.count()),
          new VirtualHostTable(),
          (b, o, l) -> true,
          4,
          1_000_000_000L);
  private final VirtualHostLinks links = new VirtualHostLinks();
  private final VirtualHostLinkScan scan =
      new VirtualHostLinkScan(
          path,
          links,
          new VirtualHostLinkScan.Opener() {
            @Override
            public int ifIndex(String name) {
              return interfaces.getOrDefault(name, 0);
            }

            @Override
            public VirtualHostLinkScan.Opened open(String name, byte[] mac) {
              opened.add(name + " " + VirtualHostLinkScan.formatMac(mac));
              return new VirtualHostLinkScan.Opened(new Nothing(), interfaces.get(name), 1500);
            }
          },
          new VirtualHostLinkScan.NeighbourTable() {
            @Override
            public List<Neighbours.Entry> dump() throws IOException {
              dumps++;
              if (dumpFails) {
                throw new IOException("refused");
              }
              return List.copyOf(table);
            }

            @Override
            public void resolve(int family, int ifIndex, byte[] address) throws IOException {
              asked.add(family + " " + ifIndex);
              if (resolveFails) {
                throw new IOException("refused");
              }
              if (kernelAnswers) {
                // A veth's neighbour answers inside the request: resolved when it returns.
                table.add(new Neighbours.Entry(family, ifIndex, address, MAC, 0x02));
              }
            }
          });

  private static final class Nothing implements VirtualHostLinks.Link {
    @Override
    public boolean offer(int etherType, DirectBuffer buffer, int offset, int length) {
      return true;
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  }

  private static byte[] v6() {
    return ByteBuffer.allocate(16).putLong(ORIGIN6[0]).putLong(ORIGIN6[1]).array();
  }

  private void neighbour(int family, int ifIndex, byte[] address, int state) {
    table.add(new Neighbours.Entry(family, ifIndex, address, MAC, state));
  }

  /** The forwarding thread's turn: the commands the scan queued. */
  private void forwardingThread() {
    path.tick(1);
  }

  @Test
  void shouldLinkAnIpv6VirtualHostOnceItsNeighbourIsResolvedOnItsVeth() {
    interfaces.put(LINK6, 40);
    scan.added6(ORIGIN6[0], ORIGIN6[1]);
    scan.scan();
    forwardingThread();
    assertFalse(links.has6(ORIGIN6[0], ORIGIN6[1]), "no neighbour yet: the TUN");
    neighbour(Neighbours.AF_INET6, 40, v6(), 0x01); // NUD_INCOMPLETE
    neighbour(Neighbours.AF_INET6, 41, v6(), 0x02); // resolved, but on another link
    scan.scan();
    forwardingThread();
    assertFalse(links.has6(ORIGIN6[0], ORIGIN6[1]));
    neighbour(Neighbours.AF_INET6, 40, v6(), 0x04); // NUD_STALE: its MAC is good
    scan.scan();
    forwardingThread();
    assertTrue(links.has6(ORIGIN6[0], ORIGIN6[1]));
    assertTrue(scan.linked6(ORIGIN6[0], ORIGIN6[1]));
    assertEquals(List.of(LINK6 + " 02:00:00:00:00:06"), opened);
    int before = dumps;
    scan.scan(); // nothing waits for a link: no dump
    assertEquals(before, dumps);
    assertEquals(1, opened.size());
  }

  @Test
  void shouldLinkAnIpv4VirtualHostTheSameWay() {
    interfaces.put(LINK, 30);
    scan.added(ORIGIN);
    neighbour(Neighbours.AF_INET, 30, ByteBuffer.allocate(4).putInt(ORIGIN).array(), 0x02);
    scan.scan();
    forwardingThread();
    assertTrue(links.has(ORIGIN));
    assertTrue(scan.linked(ORIGIN));
    assertFalse(links.has6(0, ORIGIN));
  }

  @Test
  void shouldTakeTheLinkBackWhenTheVethIsReplacedOrTheVirtualHostGoes() {
    interfaces.put(LINK6, 40);
    neighbour(Neighbours.AF_INET6, 40, v6(), 0x02);
    scan.added6(ORIGIN6[0], ORIGIN6[1]);
    scan.scan();
    forwardingThread();
    assertTrue(links.has6(ORIGIN6[0], ORIGIN6[1]));
    interfaces.put(LINK6, 42); // a new virtual host took the name: its neighbour not known yet
    scan.scan();
    forwardingThread();
    assertFalse(links.has6(ORIGIN6[0], ORIGIN6[1]));
    neighbour(Neighbours.AF_INET6, 42, v6(), 0x02);
    scan.scan();
    forwardingThread();
    assertTrue(links.has6(ORIGIN6[0], ORIGIN6[1]));
    scan.removed6(ORIGIN6[0], ORIGIN6[1]);
    forwardingThread();
    assertFalse(links.has6(ORIGIN6[0], ORIGIN6[1]));
    assertEquals(0, links.size());
  }

  @Test
  void shouldKeepTheTunWhenTheNeighbourTableCannotBeRead() {
    interfaces.put(LINK6, 40);
    neighbour(Neighbours.AF_INET6, 40, v6(), 0x02);
    dumpFails = true;
    scan.added6(ORIGIN6[0], ORIGIN6[1]);
    scan.scan();
    forwardingThread();
    assertFalse(links.has6(ORIGIN6[0], ORIGIN6[1]));
    dumpFails = false; // read again at the next scan
    scan.scan();
    forwardingThread();
    assertTrue(links.has6(ORIGIN6[0], ORIGIN6[1]));
  }

  /**
   * A new virtual host's MAC is asked for at the first scan that sees its veth, not left to its
   * first packet: the link is there before any packet comes, IPv4 and IPv6 alike.
   */
  @Test
  void shouldAskTheKernelToResolveANewVirtualHostAndLinkItInTheSameScan() {
    kernelAnswers = true;
    interfaces.put(LINK, 30);
    interfaces.put(LINK6, 40);
    scan.added(ORIGIN);
    scan.added6(ORIGIN6[0], ORIGIN6[1]);
    scan.scan();
    forwardingThread();
    assertTrue(links.has(ORIGIN), "linked before any packet");
    assertTrue(links.has6(ORIGIN6[0], ORIGIN6[1]), "linked before any packet");
    assertEquals(
        java.util.Set.of(Neighbours.AF_INET + " 30", Neighbours.AF_INET6 + " 40"),
        java.util.Set.copyOf(asked));
    assertEquals(2, dumps, "one dump, and one more after asking");
    scan.scan();
    assertEquals(2, asked.size(), "nothing waits: not asked again");
    assertEquals(2, dumps);
  }

  /** A kernel that answers later: asked again each scan while it waits, linked when it answers. */
  @Test
  void shouldAskAgainWhileTheNeighbourIsUnresolvedAndLinkItWhenItIs() {
    interfaces.put(LINK, 30);
    scan.added(ORIGIN);
    scan.scan();
    scan.scan();
    forwardingThread();
    assertFalse(links.has(ORIGIN));
    assertEquals(2, asked.size());
    neighbour(Neighbours.AF_INET, 30, ByteBuffer.allocate(4).putInt(ORIGIN).array(), 0x02);
    scan.scan();
    forwardingThread();
    assertTrue(links.has(ORIGIN));
    assertEquals(2, asked.size(), "resolved: not asked");
  }

  /** A kernel that refuses the request leaves the virtual host to its first packet, as before. */
  @Test
  void shouldFallBackToTheFirstPacketWhenTheKernelRefusesToResolve() {
    resolveFails = true;
    interfaces.put(LINK, 30);
    scan.added(ORIGIN);
    scan.scan();
    forwardingThread();
    assertFalse(links.has(ORIGIN));
    assertEquals(1, dumps, "no second dump after a refusal");
    neighbour(Neighbours.AF_INET, 30, ByteBuffer.allocate(4).putInt(ORIGIN).array(), 0x02);
    scan.scan();
    forwardingThread();
    assertTrue(links.has(ORIGIN), "the packet's resolution is found as before");
  }
}
