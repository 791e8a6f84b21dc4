package net.hydranet.forwarding.element;

import net.hydranet.forwarding.config.RouterInterface;

/**
 * What the elements learn about the frame in hand and pass along the chain (Click's packet
 * annotations): one per path, allocated once and {@link #reset} at the start of every frame, so no
 * element keeps another's per-packet state in its own fields.
 *
 * <p>Each field says which element writes it; later elements only read it. Only what a later
 * element or an error path reads goes here: a step hands what only the next step needs to it as an
 * argument (the IPv4 path's offsets and route, {@link IpOutput#send}), since a field read after an
 * access to the frame is a load again ({@link Element}).
 */
public final class PacketContext {
  /** The interface the frame came in on (the path, at reset). */
  public RouterInterface ingress;

  /** Offset and captured length of the frame (the path, at reset). */
  public int frame;

  public int length;

  /** Ethernet destination, network header offset and bytes from there to the frame's end. */
  public long destinationMac;

  /**
   * Offset of the network header the next element works on ({@link EtherClassifier}); moved to the
   * outer header by an encapsulation element's {@code process} (the IPv4 path's tunnel holds both
   * offsets in locals).
   */
  public int l3;

  public int available;

  /** The IPv4 addresses ({@link IpInput}). */
  public int source;

  public int destination;

  /**
   * The transport 5-tuple's rest and the TCP flags ({@link RedirectLookup}); {@code protocol} is -1
   * for a first fragment too short to carry ports.
   */
  public int protocol;

  public int sourcePort;
  public int destinationPort;
  public int tcpFlags;

  /**
   * The redirector table's service (or its NOT_FOUND) and the target: 0 the origin, else a host
   * server ({@link RedirectLookup}).
   */
  public int service;

  public int target;

  /**
   * The route's interface, next hop and that interface's MTU ({@link IpOutput#route}), for the
   * elements after it; the IPv4 path's forward and tunnel hold them in locals ({@link
   * IpOutput#lookup}).
   */
  public int egressInterface;

  public int nextHop;
  public int mtu;

  /** IPv6 addresses, as two longs each ({@link Ip6Input}). */
  public long source6High;

  public long source6Low;
  public long destination6High;
  public long destination6Low;

  /**
   * IPv6: offset and length of the upper-layer header (after the extension headers), and of the
   * fragment header or -1 ({@link Ip6Input}).
   */
  public int upper;

  public int upperLength;
  public int fragment6;

  /** IPv6: the route's next hop ({@link Ip6Output#route}). */
  public long nextHop6High;

  public long nextHop6Low;

  /**
   * Starts a new frame. The decision — service and target — is cleared, so a frame can never go
   * where the previous one went; every other field is written by the element named beside it before
   * any later element reads it, and is left as it is (each store is a store per packet).
   */
  public void reset(RouterInterface ingress, int frame, int length) {
    if (this.ingress != ingress) {
      // Stored only when it changes: a reference store into this long-lived object costs a G1
      // post-write barrier (a StoreLoad fence when the card is not young), per frame.
      this.ingress = ingress;
    }
    this.frame = frame;
    this.length = length;
    service = -1;
    target = 0;
  }
}
