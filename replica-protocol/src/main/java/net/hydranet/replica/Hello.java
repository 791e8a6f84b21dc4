package net.hydranet.replica;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * The body of a HELLO (REPLICAS.md, "Transport and authentication"): the sender's version, role,
 * address and nonce. Version 1 names the sender by 4 bytes; version 2 adds an address family:
 *
 * <pre>
 * version 1 (22 bytes)                 version 2 (23 or 35 bytes)
 * +---------+------+----------------+  +---------+------+--------+----------------------+
 * | 1       | role | IPv4 (4 bytes) |  | 2       | role | family | 4 (family 4) or      |
 * +---------+------+----------------+  |         |      | 4 or 6 | 16 (family 6) bytes  |
 * | nonce (16 bytes)                 |  +---------+------+--------+----------------------+
 * +----------------------------------+  | nonce (16 bytes)                               |
 *                                       +------------------------------------------------+
 * </pre>
 *
 * <p>A node says version 1 when its address on the connection is IPv4, byte for byte as before
 * version 2 existed, so an IPv4 deployment with old and new nodes mixed sees nothing new on the
 * wire; it says version 2 only for an IPv6 address, which version 1 cannot carry. It reads both,
 * and version 2 with family 4 too (a later node may send it). Any other version or family is an
 * {@link UnsupportedHelloException}; an IPv4-mapped IPv6 address ({@code ::ffff:a.b.c.d}) under
 * family 6 is malformed, so an IPv4 address has no second IPv6 spelling that a check could miss.
 */
public record Hello(int version, int role, InetAddress address, byte[] nonce) {
  public static final int V1 = 1;
  public static final int V2 = 2;
  public static final int FAMILY_IPV4 = 4;
  public static final int FAMILY_IPV6 = 6;

  /** The longest body: version 2 with an IPv6 address. */
  public static final int MAX_BODY = 1 + 1 + 1 + 16 + ReplicaSession.NONCE;

  public Hello {
    if (version != V1 && version != V2) {
      throw new IllegalArgumentException("HELLO version " + version);
    }
    if (version == V1 && !(address instanceof Inet4Address)) {
      throw new IllegalArgumentException("a version-1 HELLO carries IPv4 only: " + address);
    }
    if (!(address instanceof Inet4Address) && !(address instanceof Inet6Address)) {
      throw new IllegalArgumentException("HELLO address " + address);
    }
    if (nonce.length != ReplicaSession.NONCE) {
      throw new IllegalArgumentException("a nonce is 16 bytes, not " + nonce.length);
    }
    nonce = nonce.clone();
  }

  /** The HELLO a node at {@code address} sends: version 1 for IPv4, version 2 for IPv6. */
  public static Hello of(int role, InetAddress address, byte[] nonce) {
    return new Hello(address instanceof Inet4Address ? V1 : V2, role, address, nonce);
  }

  @Override
  public byte[] nonce() {
    return nonce.clone();
  }

  /** The body's bytes. */
  public byte[] encode() {
    Body.Writer w = new Body.Writer().u8(version).u8(role);
    if (version == V2) {
      w.u8(address instanceof Inet4Address ? FAMILY_IPV4 : FAMILY_IPV6);
    }
    return w.raw(address.getAddress()).raw(nonce).toByteArray();
  }

  /**
   * Reads a HELLO body of either version: {@link UnsupportedHelloException} for a version or family
   * this node does not read, {@link ProtocolException} for anything else wrong with it.
   */
  public static Hello decode(byte[] body) throws ProtocolException {
    Body.Reader r = new Body.Reader(body);
    int version = r.u8();
    if (version != V1 && version != V2) {
      throw new UnsupportedHelloException(
          "HELLO of version " + version + " (this node reads versions 1 and 2)");
    }
    int role = r.u8();
    int length = 4;
    if (version == V2) {
      int family = r.u8();
      if (family == FAMILY_IPV6) {
        length = 16;
      } else if (family != FAMILY_IPV4) {
        throw new UnsupportedHelloException(
            "HELLO of address family " + family + " (this node reads 4 and 6)");
      }
    }
    byte[] raw = r.raw(length);
    byte[] nonce = r.raw(ReplicaSession.NONCE);
    r.end();
    if (length == 16 && isIpv4Mapped(raw)) {
      throw new ProtocolException(
          "HELLO of family 6 with an IPv4-mapped address: IPv4 is family 4");
    }
    InetAddress address;
    try {
      address = InetAddress.getByAddress(raw);
    } catch (UnknownHostException e) {
      throw new IllegalStateException("4 or 16 bytes are an address", e);
    }
    return new Hello(version, role, address, nonce);
  }

  private static boolean isIpv4Mapped(byte[] a) {
    for (int i = 0; i < 10; i++) {
      if (a[i] != 0) {
        return false;
      }
    }
    return a[10] == (byte) 0xff && a[11] == (byte) 0xff;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Hello h
        && h.version == version
        && h.role == role
        && h.address.equals(address)
        && Arrays.equals(h.nonce, nonce);
  }

  @Override
  public int hashCode() {
    return (version * 31 + role) * 31 + address.hashCode() * 31 + Arrays.hashCode(nonce);
  }

  @Override
  public String toString() {
    return "HELLO v" + version + " role " + role + " from " + OriginAddress.text(address);
  }
}
