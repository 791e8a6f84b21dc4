package net.hydranet.harness.packet;

import net.hydranet.forwarding.wire.Ipv4Header;

/** Dotted-quad text to the int form the wire flyweights use, for readable test fixtures. */
public final class Ipv4Addr {
  private Ipv4Addr() {}

  /** "198.18.0.1" → 0xC6120001; throws {@link IllegalArgumentException} for anything else. */
  public static int of(String text) {
    return Ipv4Header.parseAddress(text);
  }

  /** 0xC6120001 → "198.18.0.1". */
  public static String format(int address) {
    return Ipv4Header.formatAddress(address);
  }
}
