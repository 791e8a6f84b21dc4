package net.hydranet.control.wire;

/**
 * One replicated service access point as carried on the wire: the {@link Service} (origin address
 * of either family, protocol, port) served by {@code hostServer} with a weight, a reported load and
 * a distance. In ANNOUNCE and WITHDRAW the host server is the sender and the distance is 0 (neither
 * is on the wire).
 *
 * @param hostServer the host server's IPv4 control address: a host server has one identity, IPv6
 *     services included (control-plane/IPV6.md §1)
 * @param weight relative share of new flows among replicas at the same distance; 0 drains
 * @param load the host server's reported load, 0 (idle) to 100 (saturated)
 * @param distance hops plus link costs to the host server; {@link Codec#INFINITY} withdraws
 */
public record Entry(Service service, int hostServer, int weight, int load, int distance) {

  /** An entry of an IPv4 service. */
  public Entry(
      int origin, int protocol, int port, int hostServer, int weight, int load, int distance) {
    this(Service.ipv4(origin, protocol, port), hostServer, weight, load, distance);
  }

  /** The service key of an IPv4 origin. */
  public static Service service(int origin, int protocol, int port) {
    return Service.ipv4(origin, protocol, port);
  }

  /** The IPv4 origin; only for IPv4 entries (see {@link Service#isIpv4()}). */
  public int origin() {
    return service.ipv4Origin();
  }

  public int protocol() {
    return service.protocol();
  }

  public int port() {
    return service.port();
  }

  public boolean isIpv4() {
    return service.isIpv4();
  }

  public Entry withWeight(int w) {
    return new Entry(service, hostServer, w, load, distance);
  }

  public Entry withDistance(int d) {
    return new Entry(service, hostServer, weight, load, d);
  }
}
