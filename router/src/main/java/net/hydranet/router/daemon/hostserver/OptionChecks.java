package net.hydranet.router.daemon.hostserver;

import net.hydranet.forwarding.io.live.KernelChecks;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.router.error.UserError;

/**
 * The host server's {@code --interface}, {@code --address}, {@code --address6} and {@code
 * --inline-burst}, checked.
 */
public final class OptionChecks {
  private OptionChecks() {}

  public static void requireInterface(String iface) {
    if (!KernelChecks.interfaceExists(iface)) {
      throw new UserError("--interface: no interface '" + iface + "' on this host");
    }
  }

  public static int address(String address) {
    try {
      return Ipv4Header.parseAddress(address);
    } catch (IllegalArgumentException e) {
      throw new UserError("--address: '" + address + "' is not an IPv4 address");
    }
  }

  public static long[] address6(String address6) {
    if (address6 == null) {
      return null;
    }
    try {
      return Ipv6Header.parseAddress(address6);
    } catch (IllegalArgumentException e) {
      throw new UserError("--address6: '" + address6 + "' is not an IPv6 address");
    }
  }

  public static int inlineBurst(int frames) {
    if (frames < 0) {
      throw new UserError("--inline-burst: must not be negative, was " + frames);
    }
    return frames;
  }
}
