/**
 * Packet I/O on live Linux interfaces, without a JNA callback or an allocation per packet.
 *
 * <ul>
 *   <li>{@link net.hydranet.forwarding.io.live.LivePcapSource} receives frames from one interface
 *       through libpcap's ring: a batch per JNA call through the C shim {@code libhydranet-pcap.so}
 *       ({@code PcapShim}: {@code pcap_dispatch} with a C callback copying each frame into its ring
 *       slot), or a direct-mapped {@code pcap_next_ex} per frame where the shim is missing or
 *       {@code -Dhydranet.pcap.batch=false}.
 *   <li>{@link net.hydranet.forwarding.io.live.LivePcapTxPort} sends frames on the same libpcap
 *       handle, so the kernel never echoes them back into the capture.
 *   <li>{@link net.hydranet.forwarding.io.live.TunDevice} writes and reads raw IPv4 packets on a
 *       TUN interface, the host server's way into the local stack.
 *   <li>{@link net.hydranet.forwarding.io.live.KernelChecks} reports kernel settings that would
 *       break a pcap router (ip_forward, offloads) and reads interface facts.
 *   <li>{@code PcapNative}, {@code PcapShim} and {@code LibC} hold the direct-mapped native calls.
 * </ul>
 */
package net.hydranet.forwarding.io.live;
