package net.hydranet.forwarding.config;

import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.Ipv4Header;

/**
 * One interface of the router as the forwarding plane sees it: index, name, MAC, address, MTU.
 *
 * @param index position in the context's interface list, used as the interface id on the path
 * @param name the OS name (eth0), also the name of its pcap file in replay
 * @param mac the interface's MAC as the low 48 bits
 * @param address the router's IPv4 address on this interface
 * @param prefixLength length of the connected prefix
 * @param mtu the largest IP datagram this interface sends (bytes, link header excluded)
 */
public record RouterInterface(
    int index, String name, long mac, int address, int prefixLength, int mtu) {

  /** The connected network, host bits cleared. */
  public int network() {
    return address & mask(prefixLength);
  }

  /** The directed broadcast address of the connected network. */
  public int broadcast() {
    return network() | ~mask(prefixLength);
  }

  /** A netmask of {@code length} leading ones. */
  public static int mask(int length) {
    return length == 0 ? 0 : -1 << (32 - length);
  }

  @Override
  public String toString() {
    return name
        + " "
        + EthernetHeader.formatMac(mac)
        + " "
        + Ipv4Header.formatAddress(address)
        + "/"
        + prefixLength
        + " mtu "
        + mtu;
  }
}
