package net.hydranet.hostserver;

import org.agrona.DirectBuffer;
import org.agrona.collections.Int2ObjectHashMap;

/**
 * The virtual hosts' links, by IPv4 origin: where {@link HostServerPath} writes a decapsulated
 * packet when it can, straight onto the veth of the origin's virtual host (a {@link Link}, live a
 * transmit ring with the namespace's MAC), instead of into the TUN device from which the kernel
 * would route it there a second time. A virtual host without a link here, or a packet its link
 * refuses, goes to the TUN as before.
 *
 * <p>Written and read by the forwarding thread only ({@link #install} and {@link #remove} come as
 * the path's commands); nothing is allocated per packet.
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

  private final Int2ObjectHashMap<Link> byOrigin = new Int2ObjectHashMap<>();
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

  public int size() {
    return all.length;
  }

  private void rebuild() {
    all = byOrigin.values().toArray(new Link[0]);
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

  /** Sends what every link holds; a link with nothing queued costs no system call. */
  public void flush() {
    Link[] links = all;
    for (Link link : links) {
      link.flush();
    }
  }
}
