package net.hydranet.control.wire;

/**
 * One replicated service access point as carried on the wire: the origin's (address, protocol,
 * port) served by {@code hostServer} with a weight, a reported load and a distance. In ANNOUNCE and
 * WITHDRAW the host server is the sender and the distance is 0 (neither is on the wire).
 *
 * @param weight relative share of new flows among replicas at the same distance; 0 drains
 * @param load the host server's reported load, 0 (idle) to 100 (saturated)
 * @param distance hops plus link costs to the host server; {@link Codec#INFINITY} withdraws
 */
public record Entry(
    int origin, int protocol, int port, int hostServer, int weight, int load, int distance) {

  /** The service key: origin, protocol and port packed into one long. */
  public long service() {
    return service(origin, protocol, port);
  }

  public static long service(int origin, int protocol, int port) {
    return (Integer.toUnsignedLong(origin) << 24) | ((long) protocol << 16) | port;
  }

  public static int serviceOrigin(long service) {
    return (int) (service >>> 24);
  }

  public static int serviceProtocol(long service) {
    return (int) (service >>> 16) & 0xff;
  }

  public static int servicePort(long service) {
    return (int) service & 0xffff;
  }

  public Entry withWeight(int w) {
    return new Entry(origin, protocol, port, hostServer, w, load, distance);
  }

  public Entry withDistance(int d) {
    return new Entry(origin, protocol, port, hostServer, weight, load, d);
  }
}
