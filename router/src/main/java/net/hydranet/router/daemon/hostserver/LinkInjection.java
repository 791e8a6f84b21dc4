package net.hydranet.router.daemon.hostserver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import net.hydranet.forwarding.io.live.KernelChecks;
import net.hydranet.forwarding.io.live.LinkTxRing;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.hostserver.HostServerPath;
import net.hydranet.hostserver.VirtualHostDirectory;
import net.hydranet.hostserver.VirtualHostLinks;
import net.hydranet.router.cli.HostServerCommand;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code --inject link}: each IPv4 virtual host's {@code PACKET_TX_RING} on its own link, opened by
 * the main thread once this host's kernel knows the virtual host's MAC there and handed to the
 * forwarding thread as a command; taken back when the link goes. Until then, the TUN.
 */
public final class LinkInjection {
  private static final Logger LOG = LoggerFactory.getLogger(HostServerCommand.class);

  private final HostServerPath path;
  private final VirtualHostLinks links;

  /**
   * The IPv4 virtual hosts, each with the link ring the forwarding thread writes through, or null
   * until it has one (main thread only; the forwarding thread only uses the rings).
   */
  private final java.util.Map<Integer, LinkTxRing> linkRings = new java.util.HashMap<>();

  /** Virtual hosts whose ring could not be opened, so that it is said once. */
  private final java.util.Set<Integer> linkFailures = new java.util.HashSet<>();

  public LinkInjection(HostServerPath path, VirtualHostLinks links) {
    this.path = path;
    this.links = links;
  }

  /** A new virtual host: its link is looked for from the next scan on. */
  void watch(int origin) {
    linkRings.put(origin, null); // its link, once the kernel knows the MAC (check)
  }

  /** A virtual host gone: its ring (if any) was taken back by a command already. */
  void forget(int origin) {
    linkRings.remove(origin);
    linkFailures.remove(origin);
  }

  /**
   * Gives each IPv4 virtual host without one a ring on its link, as soon as this host's kernel has
   * resolved the virtual host's MAC address there ({@code /proc/net/arp}: the first packet routed
   * through the TUN makes it ask); and takes a ring back when its link is gone or another link took
   * its name (a virtual host replaced between two scans): the kernel's index tells. Until it has a
   * ring, and after, a virtual host's packets go through the TUN. Main thread, each scan.
   */
  public void check() {
    java.util.Map<String, byte[]> arp = null;
    for (java.util.Map.Entry<Integer, LinkTxRing> e : linkRings.entrySet()) {
      int origin = e.getKey();
      LinkTxRing ring = e.getValue();
      String name = VirtualHostDirectory.hostLink(origin);
      if (ring != null) {
        if (KernelChecks.ifIndex(name) == ring.ifIndex()) {
          continue;
        }
        LOG.info(
            "virtual host {}: link {} gone or replaced", Ipv4Header.formatAddress(origin), name);
        path.command(() -> links.remove(origin));
        e.setValue(null);
      }
      if (arp == null) {
        arp = neighbours();
      }
      byte[] mac = arp.get(Ipv4Header.formatAddress(origin) + " " + name);
      if (mac == null) {
        continue;
      }
      try {
        LinkTxRing opened = LinkTxRing.open(name, mac);
        path.command(() -> links.install(origin, link(opened)));
        e.setValue(opened);
        LOG.info(
            "virtual host {}: packets written onto {} (ifindex {}, MTU {}, to {}), not the TUN",
            Ipv4Header.formatAddress(origin),
            name,
            opened.ifIndex(),
            opened.mtu(),
            formatMac(mac));
      } catch (IOException | RuntimeException ex) {
        if (linkFailures.add(origin)) {
          LOG.warn(
              "virtual host {}: no ring on {} ({}): its packets go through the TUN (tried again"
                  + " each scan, said once)",
              Ipv4Header.formatAddress(origin),
              name,
              ex.getMessage());
        }
      }
    }
  }

  /**
   * Resolved IPv4 neighbours of this namespace by "ADDRESS DEVICE", from {@code /proc/net/arp}
   * (lines "IP address, HW type, Flags, HW address, Mask, Device"; flag 0x2: complete).
   */
  private static java.util.Map<String, byte[]> neighbours() {
    java.util.Map<String, byte[]> out = new java.util.HashMap<>();
    try {
      for (String line : Files.readAllLines(Path.of("/proc/net/arp"))) {
        String[] w = line.trim().split("\\s+");
        if (w.length >= 6 && w[2].startsWith("0x")) {
          try {
            if ((Integer.parseInt(w[2].substring(2), 16) & 0x2) != 0) {
              out.put(w[0] + " " + w[5], KernelChecks.parseMac(w[3]));
            }
          } catch (IllegalArgumentException ex) {
            // Not a line of ours to read (the header, an incomplete entry).
          }
        }
      }
    } catch (IOException ex) {
      LOG.debug("cannot read /proc/net/arp: {}", ex.getMessage());
    }
    return out;
  }

  private static String formatMac(byte[] mac) {
    StringBuilder b = new StringBuilder();
    for (byte x : mac) {
      b.append(b.length() == 0 ? "" : ":").append(String.format("%02x", x & 0xFF));
    }
    return b.toString();
  }

  /** The forwarding thread's view of a ring: it alone offers to, flushes and closes it. */
  private static VirtualHostLinks.Link link(LinkTxRing ring) {
    return new VirtualHostLinks.Link() {
      @Override
      public boolean offer(int etherType, org.agrona.DirectBuffer buffer, int offset, int length) {
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
}
