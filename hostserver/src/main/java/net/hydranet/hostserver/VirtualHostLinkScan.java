package net.hydranet.hostserver;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.hydranet.forwarding.io.live.KernelChecks;
import net.hydranet.forwarding.io.live.LinkTxRing;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import org.agrona.DirectBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives each virtual host, IPv4 or IPv6, a link in {@link VirtualHostLinks} as soon as this host's
 * kernel has resolved the virtual host's MAC address on its veth ({@link Neighbours}), and takes
 * the link back when the veth is gone or another took its name (a virtual host replaced between two
 * scans): the kernel's interface index tells. The scan does not wait for a packet to make the
 * kernel ask: for a virtual host whose veth is there and whose MAC is not known it asks the kernel
 * to resolve it at once ({@link NeighbourTable#resolve}: {@code NTF_USE}, ARP or neighbour
 * solicitation) and reads the table again in the same scan, so a new virtual host normally has its
 * link before its replica listens, and its first packets go the link's way. Until it has a link,
 * and for what its link refuses, a virtual host's packets go through the TUN.
 *
 * <p>Main thread: told of virtual hosts by the directory's listener, {@link #scan} each directory
 * scan (one neighbour dump, a second after asking, only while some virtual host waits for its
 * link); it changes the links only through {@link HostServerPath#command}, and the forwarding
 * thread closes a link when the command removing it runs.
 */
public final class VirtualHostLinkScan {
  private static final Logger LOG = LoggerFactory.getLogger(VirtualHostLinkScan.class);

  /** Opens a link on the host side of a virtual host's veth. */
  public interface Opener {
    /** The kernel's index of interface {@code name}, or ≤ 0 if there is none. */
    int ifIndex(String name);

    /** A link on {@code name} whose frames go to {@code mac}. */
    Opened open(String name, byte[] mac) throws IOException;
  }

  /** A link just opened, on the interface of index {@code ifIndex}. */
  public record Opened(VirtualHostLinks.Link link, int ifIndex, int mtu) {}

  /** The neighbour table to look MACs up in. */
  public interface NeighbourTable {
    List<Neighbours.Entry> dump() throws IOException;

    /**
     * Makes the kernel resolve {@code address} on interface {@code ifIndex} now ({@link
     * Neighbours#resolve}); a table that cannot leaves it to the first packet routed there.
     */
    default void resolve(int family, int ifIndex, byte[] address) throws IOException {}
  }

  /** A virtual host's origin, either family. */
  private record Origin(boolean v6, long high, long low) {
    String link() {
      return v6
          ? VirtualHostDirectory.hostLink6(high, low)
          : VirtualHostDirectory.hostLink((int) low);
    }

    byte[] address() {
      return v6
          ? ByteBuffer.allocate(16).putLong(high).putLong(low).array()
          : ByteBuffer.allocate(4).putInt((int) low).array();
    }

    @Override
    public String toString() {
      return v6 ? Ipv6Header.formatAddress(high, low) : Ipv4Header.formatAddress((int) low);
    }
  }

  private final HostServerPath path;
  private final VirtualHostLinks links;
  private final Opener opener;
  private final NeighbourTable neighbours;

  /** Each virtual host with the interface index of its open link, or 0 while it has none. */
  private final Map<Origin, Integer> linked = new HashMap<>();

  /** Virtual hosts whose link could not be opened or looked up, so that it is said once. */
  private final Set<Origin> failures = new HashSet<>();

  /** Virtual hosts whose MAC the kernel refused to resolve on request, so that it is said once. */
  private final Set<Origin> unresolvable = new HashSet<>();

  private boolean dumpFailed;

  public VirtualHostLinkScan(
      HostServerPath path, VirtualHostLinks links, Opener opener, NeighbourTable neighbours) {
    this.path = path;
    this.links = links;
    this.opener = opener;
    this.neighbours = neighbours;
  }

  /**
   * The live scan: {@link LinkTxRing}s on the veths, the MACs from this namespace's neighbour table
   * over rtnetlink (the socket opened at the first dump, kept).
   */
  public static VirtualHostLinkScan live(HostServerPath path, VirtualHostLinks links) {
    Neighbours[] table = new Neighbours[1];
    NeighbourTable live =
        new NeighbourTable() {
          @Override
          public List<Neighbours.Entry> dump() throws IOException {
            return neighbours().dump(Neighbours.AF_UNSPEC);
          }

          @Override
          public void resolve(int family, int ifIndex, byte[] address) throws IOException {
            neighbours().resolve(family, ifIndex, address);
          }

          private Neighbours neighbours() throws IOException {
            if (table[0] == null) {
              table[0] = Neighbours.open();
            }
            return table[0];
          }
        };
    Opener rings =
        new Opener() {
          @Override
          public int ifIndex(String name) {
            return KernelChecks.ifIndex(name);
          }

          @Override
          public Opened open(String name, byte[] mac) throws IOException {
            LinkTxRing ring = LinkTxRing.open(name, mac);
            return new Opened(link(ring), ring.ifIndex(), ring.mtu());
          }
        };
    return new VirtualHostLinkScan(path, links, rings, live);
  }

  /** The forwarding thread's view of a ring: it alone offers to, flushes and closes it. */
  private static VirtualHostLinks.Link link(LinkTxRing ring) {
    return new VirtualHostLinks.Link() {
      @Override
      public boolean offer(int etherType, DirectBuffer buffer, int offset, int length) {
        return ring.offer(etherType, buffer, offset, length);
      }

      @Override
      public void flush() {
        ring.flush();
      }

      @Override
      public void close() {
        ring.close();
      }
    };
  }

  /** An IPv4 virtual host appeared: its link once the kernel knows its MAC. */
  public void added(int origin) {
    linked.putIfAbsent(new Origin(false, 0, origin), 0);
  }

  /** An IPv4 virtual host is gone: its packets (if any still come) to the TUN, its link closed. */
  public void removed(int origin) {
    forget(new Origin(false, 0, origin));
  }

  /** An IPv6 virtual host appeared. */
  public void added6(long high, long low) {
    linked.putIfAbsent(new Origin(true, high, low), 0);
  }

  /** An IPv6 virtual host is gone. */
  public void removed6(long high, long low) {
    forget(new Origin(true, high, low));
  }

  /** Whether the virtual host of {@code origin} has been given a link (main thread's view). */
  public boolean linked(int origin) {
    return linked.getOrDefault(new Origin(false, 0, origin), 0) != 0;
  }

  /** As {@link #linked(int)}, for an IPv6 origin. */
  public boolean linked6(long high, long low) {
    return linked.getOrDefault(new Origin(true, high, low), 0) != 0;
  }

  private void forget(Origin o) {
    if (linked.remove(o) != null) {
      uninstall(o);
    }
    failures.remove(o);
    unresolvable.remove(o);
  }

  private void uninstall(Origin o) {
    if (o.v6()) {
      path.command(() -> links.remove6(o.high(), o.low()));
    } else {
      int origin = (int) o.low();
      path.command(() -> links.remove(origin));
    }
  }

  /**
   * Links for the virtual hosts whose MAC is now known; replaced or vanished veths taken back. A
   * waiting virtual host whose MAC the table does not hold is resolved at once and the table read
   * again (only in a scan that asked).
   */
  public void scan() {
    List<Neighbours.Entry> table = null;
    List<Map.Entry<Origin, Integer>> asked = null;
    for (Map.Entry<Origin, Integer> e : linked.entrySet()) {
      Origin o = e.getKey();
      String name = o.link();
      int ifIndex = opener.ifIndex(name);
      if (e.getValue() != 0) {
        if (ifIndex == e.getValue()) {
          continue;
        }
        LOG.info("virtual host {}: link {} gone or replaced", o, name);
        uninstall(o);
        e.setValue(0);
      }
      if (ifIndex <= 0) {
        continue; // its veth is not (or no longer) there
      }
      if (table == null) {
        table = dump();
        if (table == null) {
          return;
        }
      }
      byte[] mac = mac(table, ifIndex, o.address());
      if (mac != null) {
        open(e, name, mac);
      } else if (resolve(o, ifIndex)) {
        if (asked == null) {
          asked = new ArrayList<>();
        }
        asked.add(e);
      }
    }
    if (asked != null) {
      table = dump();
      if (table == null) {
        return;
      }
      for (Map.Entry<Origin, Integer> e : asked) {
        String name = e.getKey().link();
        byte[] mac = mac(table, opener.ifIndex(name), e.getKey().address());
        if (mac != null) {
          open(e, name, mac);
        }
      }
    }
  }

  /** The neighbour table, or null if it cannot be read (said once until it can again). */
  private List<Neighbours.Entry> dump() {
    try {
      List<Neighbours.Entry> table = neighbours.dump();
      dumpFailed = false;
      return table;
    } catch (IOException ex) {
      if (!dumpFailed) {
        LOG.warn(
            "cannot read the neighbour table: {} (packets go through the TUN)", ex.getMessage());
        dumpFailed = true;
      }
      return null;
    }
  }

  /** Asks the kernel to resolve the virtual host's MAC now; false if it refused (said once). */
  private boolean resolve(Origin o, int ifIndex) {
    try {
      neighbours.resolve(o.v6() ? Neighbours.AF_INET6 : Neighbours.AF_INET, ifIndex, o.address());
      return true;
    } catch (IOException ex) {
      if (unresolvable.add(o)) {
        LOG.warn(
            "virtual host {}: cannot ask the kernel to resolve its MAC ({}): its first packets"
                + " make it ask, through the TUN",
            o,
            ex.getMessage());
      }
      return false;
    }
  }

  /** Opens and hands over the link of a virtual host whose MAC is known. */
  private void open(Map.Entry<Origin, Integer> e, String name, byte[] mac) {
    Origin o = e.getKey();
    try {
      Opened opened = opener.open(name, mac);
      install(o, opened.link());
      e.setValue(opened.ifIndex());
      failures.remove(o);
      LOG.info(
          "virtual host {}: packets written onto {} (ifindex {}, MTU {}, to {}), not the TUN",
          o,
          name,
          opened.ifIndex(),
          opened.mtu(),
          formatMac(mac));
    } catch (IOException | RuntimeException ex) {
      if (failures.add(o)) {
        LOG.warn(
            "virtual host {}: no ring on {} ({}): its packets go through the TUN (tried again"
                + " each scan, said once)",
            o,
            name,
            ex.getMessage());
      }
    }
  }

  private void install(Origin o, VirtualHostLinks.Link link) {
    if (o.v6()) {
      path.command(
          () -> {
            if (!links.install6(o.high(), o.low(), link)) {
              LOG.warn("virtual host {}: no link slot left, its packets go through the TUN", o);
            }
          });
    } else {
      int origin = (int) o.low();
      path.command(() -> links.install(origin, link));
    }
  }

  /** The resolved MAC of {@code address} on the interface {@code ifIndex}, or null. */
  static byte[] mac(List<Neighbours.Entry> table, int ifIndex, byte[] address) {
    for (Neighbours.Entry n : table) {
      if (n.resolved() && n.is(ifIndex, address)) {
        return n.mac();
      }
    }
    return null;
  }

  static String formatMac(byte[] mac) {
    StringBuilder b = new StringBuilder();
    for (byte x : mac) {
      b.append(b.length() == 0 ? "" : ":").append(String.format("%02x", x & 0xFF));
    }
    return b.toString();
  }
}
