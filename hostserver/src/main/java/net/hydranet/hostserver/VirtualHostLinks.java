package net.hydranet.hostserver;

import net.hydranet.forwarding.table.Ipv6KeyMap;
import org.agrona.DirectBuffer;
import org.agrona.collections.Int2ObjectHashMap;

/**
 * The virtual hosts' links, by origin (IPv4, or IPv6 by its 128 bits): where {@link HostServerPath}
 * and {@link Ipv6Decapsulator} write a decapsulated packet when they can, straight onto the veth of
 * the origin's virtual host (a {@link Link}, live a transmit ring with the namespace's MAC),
 * instead of into the TUN device from which the kernel would route it there a second time. A
 * virtual host without a link here, or a packet its link refuses, goes to the TUN as before.
 *
 * <p>Written and read by the forwarding thread only ({@link #install}, {@link #install6} and the
 * removals come as the path's commands); nothing is allocated per packet: an IPv6 origin is one
 * probe of a fixed {@link Ipv6KeyMap} to an index into a fixed array.
 */
public final class VirtualHostLinks {
  /** One virtual host's link. */
  public interface Link {
    /** Queues one packet of {@code etherType}; false if not taken (nothing queued). */
    boolean offer(int etherType, DirectBuffer buffer, int offset, int length);

    /** Sends what is queued. */
    void flush();

    /** Sends what is queued and releases the link; it is not used again. */
    void close();
  }

  static final int ETHERTYPE_IPV4 = 0x0800;
  static final int ETHERTYPE_IPV6 = 0x86DD;

  private final Int2ObjectHashMap<Link> byOrigin = new Int2ObjectHashMap<>();
  private final Ipv6KeyMap byOrigin6 = new Ipv6KeyMap(VirtualHostTable.MAX_IPV6_VIRTUAL_HOSTS);
  private final Link[] links6 = new Link[VirtualHostTable.MAX_IPV6_VIRTUAL_HOSTS];
  private Link[] all = new Link[0];

  /** Writes to {@code link} for {@code origin} from now on; an earlier link of it is closed. */
  public void install(int origin, Link link) {
    Link old = byOrigin.put(origin, link);
    if (old != null) {
      old.close();
    }
    rebuild();
  }

  /** {@code origin}'s packets go to the TUN again; its link is closed. */
  public void remove(int origin) {
    Link old = byOrigin.remove(origin);
    if (old != null) {
      old.close();
      rebuild();
    }
  }

  public boolean has(int origin) {
    return byOrigin.containsKey(origin);
  }

  /**
   * Writes to {@code link} for the IPv6 origin {@code high, low} from now on; an earlier link of it
   * is closed.
   *
   * @return false (and {@code link} closed) if {@link VirtualHostTable#MAX_IPV6_VIRTUAL_HOSTS}
   *     other IPv6 origins have a link: its packets keep going to the TUN
   */
  public boolean install6(long high, long low, Link link) {
    int index = byOrigin6.get(high, low, 0);
    if (index != Ipv6KeyMap.MISSING) {
      links6[index].close();
    } else {
      index = freeIndex6();
      if (index < 0) {
        link.close();
        return false;
      }
      byOrigin6.put(high, low, 0, index);
    }
    links6[index] = link;
    rebuild();
    return true;
  }

  /** The IPv6 origin's packets go to the TUN again; its link is closed. */
  public void remove6(long high, long low) {
    int index = byOrigin6.remove(high, low, 0);
    if (index != Ipv6KeyMap.MISSING) {
      links6[index].close();
      links6[index] = null;
      rebuild();
    }
  }

  public boolean has6(long high, long low) {
    return byOrigin6.get(high, low, 0) != Ipv6KeyMap.MISSING;
  }

  /** Links of both families. */
  public int size() {
    return all.length;
  }

  private int freeIndex6() {
    for (int i = 0; i < links6.length; i++) {
      if (links6[i] == null) {
        return i;
      }
    }
    return -1;
  }

  private void rebuild() {
    Link[] next = new Link[byOrigin.size() + byOrigin6.size()];
    int n = 0;
    for (Link link : byOrigin.values()) {
      next[n++] = link;
    }
    for (Link link : links6) {
      if (link != null) {
        next[n++] = link;
      }
    }
    all = next;
  }

  /**
   * Queues the IPv4 packet for {@code origin}'s link.
   *
   * @return false if the origin has no link here or its link did not take it: write it elsewhere
   */
  public boolean write(int origin, DirectBuffer buffer, int offset, int length) {
    Link link = byOrigin.get(origin);
    return link != null && link.offer(ETHERTYPE_IPV4, buffer, offset, length);
  }

  /**
   * Queues the IPv6 packet for the link of the IPv6 origin {@code high, low} (EtherType 0x86DD).
   *
   * @return false if the origin has no link here or its link did not take it: write it elsewhere
   */
  public boolean write6(long high, long low, DirectBuffer buffer, int offset, int length) {
    int index = byOrigin6.get(high, low, 0);
    return index != Ipv6KeyMap.MISSING
        && links6[index].offer(ETHERTYPE_IPV6, buffer, offset, length);
  }

  /** Sends what every link holds; a link with nothing queued costs no system call. */
  public void flush() {
    Link[] links = all;
    for (Link link : links) {
      link.flush();
    }
  }
}
