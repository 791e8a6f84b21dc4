package net.hydranet.harness.fuzz;

import static net.hydranet.harness.fixture.SampleTopology.*;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.ArrayList;
import java.util.List;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.Icmpv6Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.harness.fixture.CapturingTxPort;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.harness.packet.PacketBuilder;
import net.hydranet.router.config.RedirectorConfig;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Coverage-guided fuzzing of the redirector's whole element chain (FUZZING.md), with the fixed
 * config of {@code config/replay-sample.yaml}: TCP 80 and UDP 53 of the origin are redirected, the
 * rest is routed. Every emitted frame is checked by {@link RedirectorOracle}.
 *
 * <p>Without {@code JAZZER_FUZZ} these replay {@code RedirectorFuzzTestInputs/<method>/}: the seeds
 * from {@link FuzzSeeds} and every input that once found a bug.
 */
class RedirectorFuzzTest {
  private static final long[] INTERFACE_MACS = {CLIENT0_MAC, CORE0_MAC, HS0_MAC};
  private static final int[] INTERFACE_IPS = {CLIENT0_IP, CORE0_IP, HS0_IP};

  /**
   * Any bytes as one frame. The last input byte picks the ingress interface (low two bits) and,
   * with bit 2 set, writes that interface's MAC as the destination so the frame gets past the "for
   * us?" check without the fuzzer having to guess 48 bits.
   */
  @FuzzTest
  void rawFrame(FuzzedDataProvider data) {
    int selector = data.consumeInt(0, 255);
    byte[] frame = data.consumeRemainingAsBytes();
    int ingress = (selector & 3) % 3;
    if ((selector & 4) != 0 && frame.length >= 6) {
      writeMac(frame, 0, INTERFACE_MACS[ingress]);
    }
    receiveOne(ingress, frame);
  }

  /** Any bytes behind a valid Ethernet header with one 802.1Q tag, addressed to the router. */
  @FuzzTest
  void vlanFrame(FuzzedDataProvider data) {
    int ingress = data.consumeInt(0, 2);
    int tci = data.consumeInt(0, 0xFFFF);
    byte[] rest = data.consumeRemainingAsBytes();
    byte[] frame = new byte[EthernetHeader.VLAN_LENGTH - 2 + rest.length];
    writeMac(frame, 0, INTERFACE_MACS[ingress]);
    writeMac(frame, 6, CLIENT_MAC);
    frame[12] = (byte) 0x81;
    frame[13] = 0x00;
    frame[14] = (byte) (tci >>> 8);
    frame[15] = (byte) tci;
    System.arraycopy(rest, 0, frame, 16, rest.length);
    receiveOne(ingress, frame);
  }

  /** One frame through the redirector as built, checked by the oracle. */
  private static void receiveOne(int ingress, byte[] frame) {
    new RedirectorOracle(rewoundRedirector()).receive(ingress, frame);
  }

  /**
   * A sequence of frames that builds state: fragments of a few datagrams in any order, with
   * overlaps and duplicates; ARP requests and replies for on-link addresses (which fill and drain
   * the ARP queue); ICMP errors quoting anything; raw frames; time passing. Structured frames are
   * built with {@link PacketBuilder} and may then be mutated byte by byte or cut.
   */
  @FuzzTest
  void frameSequence(FuzzedDataProvider data) {
    sequence(rewoundRedirector(), data, null);
  }

  /**
   * {@link #frameSequence} on {@code redirector}; adds what it sent to {@code sent} if not null.
   */
  static void sequence(
      RedirectorUnderTest redirector, FuzzedDataProvider data, List<CapturingTxPort.Sent> sent) {
    drive(redirector, data, sent, FrameOps.OPS, FrameOps.ADVANCE, FrameOps::build);
  }

  /** Builds the frame of kind {@code op} arriving on {@code ingress} (null: nothing to send). */
  interface FrameKinds {
    byte[] build(int op, int ingress, FuzzedDataProvider data);
  }

  /**
   * The driver of both sequences: up to 64 steps, each a kind of {@code ops} (the last, {@code
   * advance}, lets time pass), an ingress interface, and the frame {@code kinds} builds, received
   * by the redirector and checked by the oracle; adds what it sent to {@code sent} if not null.
   */
  private static void drive(
      RedirectorUnderTest redirector,
      FuzzedDataProvider data,
      List<CapturingTxPort.Sent> sent,
      int ops,
      int advance,
      FrameKinds kinds) {
    RedirectorOracle oracle = new RedirectorOracle(redirector);
    for (int n = 0; n < 64 && data.remainingBytes() > 0; n++) {
      int op = data.consumeInt(0, ops - 1);
      if (op == advance) {
        redirector.advance(data.consumeLong(0, 10_000_000_000L));
        continue;
      }
      int ingress = data.consumeInt(0, 2);
      byte[] frame = kinds.build(op, ingress, data);
      if (frame != null) {
        List<CapturingTxPort.Sent> out = oracle.receive(ingress, frame);
        if (sent != null) {
          sent.addAll(out);
        }
      }
    }
  }

  /**
   * Any bytes as an IPv6 packet behind an Ethernet header (issue 21). The last input byte picks the
   * ingress interface (low two bits) and what is fixed up so the fuzzer need not guess it: bit 2
   * the version nibble, bit 3 a payload length that matches the bytes, bit 4 a destination address
   * that matters to the sample (bits 5–7 pick which: our addresses, the neighbours, all-nodes, a
   * solicited-node group), sent to its multicast MAC if it is a group, else to the interface's.
   */
  @FuzzTest
  void ipv6Frame(FuzzedDataProvider data) {
    int selector = data.consumeInt(0, 255);
    byte[] packet = data.consumeRemainingAsBytes();
    int ingress = (selector & 3) % 3;
    long[] destination = null;
    if ((selector & 4) != 0 && packet.length > 0) {
      packet[0] = (byte) (0x60 | (packet[0] & 0x0F));
    }
    if ((selector & 8) != 0 && packet.length >= 40 && packet.length - 40 <= 0xFFFF) {
      packet[4] = (byte) ((packet.length - 40) >>> 8);
      packet[5] = (byte) (packet.length - 40);
    }
    if ((selector & 16) != 0 && packet.length >= 40) {
      destination = Ipv6Header.parseAddress(Frame6Ops.FIXED_DESTINATIONS[selector >>> 5]);
      UnsafeBuffer b = new UnsafeBuffer(packet);
      Ipv6Header.address(b, Ipv6Header.DESTINATION_OFFSET, destination[0], destination[1]);
    }
    long dstMac =
        destination != null && Ipv6Header.isMulticast(destination[0])
            ? Ipv6Header.multicastMac(destination[1])
            : INTERFACE_MACS[ingress];
    byte[] frame =
        PacketBuilder.ethernet(CLIENT_MAC, dstMac)
            .etherType(EthernetHeader.TYPE_IPV6)
            .payload(packet)
            .build();
    receiveOne(ingress, frame);
  }

  /**
   * A dual-stack sequence that builds IPv6 state (issue 21): TCP and UDP to the IPv6 services
   * (redirected in IPv6-in-IPv6, and in IPv6-in-IPv4 for {@link #SIX_IN_FOUR_PORT}) and elsewhere,
   * behind extension-header chains the fuzzer assembles (any order, repeats, lengths), fragments of
   * a few ids at any offset and in any order, ICMPv6 errors quoting a service's flow or any bytes,
   * echo requests, neighbour solicitations and advertisements (which fill and drain the neighbour
   * queue), router solicitations and advertisements, IPv6 tunnelled in IPv4 and in IPv6, IPv4
   * frames of {@link #frameSequence}'s kinds, raw frames, time passing. Each built frame may then
   * be mutated byte by byte or cut.
   */
  @FuzzTest
  void ipv6Sequence(FuzzedDataProvider data) {
    sequence6(rewoundRedirector(), data, null);
  }

  /** {@link #ipv6Sequence} on {@code redirector}; adds what it sent to {@code sent} if not null. */
  static void sequence6(
      RedirectorUnderTest redirector, FuzzedDataProvider data, List<CapturingTxPort.Sent> sent) {
    drive(redirector, data, sent, Frame6Ops.OPS, Frame6Ops.ADVANCE, Frame6Ops::build);
  }

  /**
   * The IPv6 service the fuzz config adds beside the sample's: UDP port 53 of the IPv6 origin, to
   * the host server's IPv4 address, so IPv6-in-IPv4 (protocol 41) is fuzzed too.
   */
  static final int SIX_IN_FOUR_PORT = DNS;

  /**
   * The sample config, parsed once, with its limits made small: every interface, route, neighbour,
   * redirect and option is the sample's, but a fresh redirector per input then costs microseconds
   * instead of a YAML parse and megabytes of tables (1 execution a second otherwise), and the ARP
   * queue's bound of 16 frames is one the fuzzer can reach. The same goes for the connection and
   * fragment tables (the sample's 1M flows are 45 MiB) and the Maglev tables (61 entries, not
   * 4,093: with one host server per service every entry is that server either way); 64 flows and 16
   * held fragments also make their LRU eviction and overflow reachable.
   */
  private static final RedirectorConfig CONFIG = smallConfig();

  static RedirectorConfig smallConfig() {
    RedirectorConfig sample = RedirectorUnderTest.sampleConfig();
    long[] origin6 = Ipv6Header.parseAddress(ORIGIN6);
    List<RedirectorConfig.Redirect6> redirects6 = new ArrayList<>(sample.redirects6());
    redirects6.add(
        new RedirectorConfig.Redirect6(
            origin6[0],
            origin6[1],
            Ipv6Header.NEXT_HEADER_UDP,
            SIX_IN_FOUR_PORT,
            List.of(new RedirectorConfig.HostServer(HOST_SERVER, 0, 0, 1))));
    RedirectorConfig config =
        new RedirectorConfig(
            sample.context(),
            sample.routes(),
            sample.neighbours(),
            sample.redirects(),
            sample.routes6(),
            sample.neighbours6(),
            redirects6);
    config
        .context()
        .redirectCapacity(16)
        .routeCapacity(16)
        .neighbourCapacity(16)
        .arpQueueFrames(ARP_QUEUE_FRAMES)
        .flowCapacity(64)
        .fragmentContexts(8)
        .fragmentsHeld(16)
        .maglevTableSize(61);
    return config;
  }

  static final int ARP_QUEUE_FRAMES = 16;

  static RedirectorUnderTest newRedirector() {
    return new RedirectorUnderTest(CONFIG);
  }

  /** One redirector for the JVM, rewound to as-built before every input: see {@link Rewind}. */
  private static final RedirectorUnderTest REDIRECTOR = newRedirector();

  private static final Rewind AS_BUILT = Rewind.of(REDIRECTOR);

  /** The redirector as {@link #newRedirector} makes it, without building one. */
  static RedirectorUnderTest rewoundRedirector() {
    AS_BUILT.restore();
    return REDIRECTOR;
  }

  static void writeMac(byte[] frame, int at, long mac) {
    for (int i = 0; i < 6; i++) {
      frame[at + i] = (byte) (mac >>> (40 - 8 * i));
    }
  }

  /** The frame kinds of {@link #frameSequence}; shared with the seed writer. */
  static final class FrameOps {
    static final int RAW = 0;
    static final int TCP = 1;
    static final int UDP = 2;
    static final int FRAGMENT = 3;
    static final int ARP_REQUEST = 4;
    static final int ARP_REPLY = 5;
    static final int ICMP_ERROR = 6;
    static final int ECHO = 7;
    static final int ADVANCE = 8;
    static final int OPS = 9;

    /** A raw frame may be a jumbo one: the slot holds 9018 bytes, and bigger ones must fragment. */
    static final int RAW_MAX = 9_018;

    /** Addresses that matter to the sample config, and a few that do not. */
    static final int[] ADDRESSES = {
      CLIENT,
      ORIGIN,
      UPSTREAM,
      HOST_SERVER,
      CLIENT0_IP,
      CORE0_IP,
      HS0_IP,
      0xC6120177, // 198.18.1.119: on link, unknown: needs ARP
      0xC6120277, // 198.18.2.119
      0xC6130707, // 198.19.7.7: routed via upstream
      0x0A000001, // 10.0.0.1: no route
      0xC61201FF, // 198.18.1.255: directed broadcast
      0xE0000001, // multicast
      0x7F000001, // loopback
    };

    private FrameOps() {}

    static byte[] build(int op, int ingress, FuzzedDataProvider data) {
      long dstMac =
          data.consumeInt(0, 15) == 0 ? EthernetHeader.BROADCAST : INTERFACE_MACS[ingress];
      PacketBuilder b = PacketBuilder.ethernet(CLIENT_MAC, dstMac);
      if (data.consumeInt(0, 7) == 0) {
        b.vlan(data.consumeInt(0, 0xFFF));
      }
      switch (op) {
        case RAW -> {
          return data.consumeBytes(data.consumeInt(0, RAW_MAX));
        }
        case ARP_REQUEST, ARP_REPLY -> {
          long mac = 0x0200_0000_0000L | data.consumeInt(0, 0xFFFF);
          int sender = address(data);
          int target = data.consumeBoolean() ? INTERFACE_IPS[ingress] : address(data);
          if (op == ARP_REQUEST) {
            b.arpRequest(mac, sender, target);
          } else {
            b.arpReply(mac, sender, INTERFACE_MACS[ingress], target);
          }
          return mutate(b.build(), data);
        }
        default -> {}
      }
      b.ipv4(address(data), address(data))
          .ttl(data.consumeInt(0, 255))
          .id(data.consumeInt(0, 3))
          .dontFragment(data.consumeBoolean());
      if (data.consumeInt(0, 7) == 0) {
        b.options(padTo4(data.consumeBytes(4 * data.consumeInt(0, 10))));
      }
      switch (op) {
        case TCP -> tcp(b, data);
        case UDP -> udp(b, DNS, data);
        case FRAGMENT -> {
          b.protocol(data.pickValue(new int[] {6, 17, 1, 4}))
              .moreFragments(data.consumeBoolean())
              .fragmentOffset(8 * data.consumeInt(0, 200))
              .ipPayload(data.consumeBytes(data.consumeInt(0, 1600)));
        }
        case ICMP_ERROR ->
            b.icmpError(
                data.pickValue(new int[] {3, 4, 5, 11, 12}),
                data.consumeInt(0, 15),
                data.consumeInt(),
                data.consumeBytes(data.consumeInt(0, 1600)));
        case ECHO ->
            b.icmpEcho(data.consumeInt(0, 65535), data.consumeInt(0, 65535))
                .payload(data.consumeInt(0, 1600));
        default -> throw new IllegalStateException("op " + op);
      }
      return mutate(b.build(), data);
    }

    /**
     * A TCP segment of any flags from any port to HTTP or any port, with or without an MSS option
     * and other option bytes, and up to 1600 bytes of payload (both families' sequences).
     */
    static void tcp(PacketBuilder b, FuzzedDataProvider data) {
      b.tcp(data.consumeInt(1, 65535), data.consumeBoolean() ? HTTP : data.consumeInt(0, 65535))
          .flags(data.consumeInt(0, 255));
      if (data.consumeBoolean()) {
        b.mss(data.consumeInt(0, 65535));
      }
      if (data.consumeInt(0, 3) == 0) {
        b.tcpOptions(padTo4(data.consumeBytes(4 * data.consumeInt(0, 9))));
      }
      b.payload(data.consumeInt(0, 1600));
    }

    /** A UDP datagram from any port to {@code service} or any port, up to 1600 bytes of payload. */
    static void udp(PacketBuilder b, int service, FuzzedDataProvider data) {
      b.udp(data.consumeInt(1, 65535), data.consumeBoolean() ? service : data.consumeInt(0, 65535))
          .payload(data.consumeInt(0, 1600));
    }

    /** No change, a few bytes overwritten (the checksum then usually fails), or a cut. */
    private static byte[] mutate(byte[] frame, FuzzedDataProvider data) {
      int how = data.consumeInt(0, 7);
      if (how == 1) {
        int count = data.consumeInt(1, 4);
        for (int i = 0; i < count; i++) {
          frame[data.consumeInt(0, frame.length - 1)] = data.consumeByte();
        }
      } else if (how == 2) {
        return java.util.Arrays.copyOf(frame, data.consumeInt(0, frame.length));
      }
      return frame;
    }

    private static int address(FuzzedDataProvider data) {
      int i = data.consumeInt(0, ADDRESSES.length);
      return i == ADDRESSES.length ? data.consumeInt() : ADDRESSES[i];
    }

    private static byte[] padTo4(byte[] options) {
      return java.util.Arrays.copyOf(options, (options.length + 3) & ~3);
    }
  }

  /** The frame kinds of {@link #ipv6Sequence}; shared with the seed writer. */
  static final class Frame6Ops {
    static final int RAW = 0;
    static final int TCP = 1;
    static final int UDP = 2;
    static final int FRAGMENT = 3;
    static final int ICMP_ERROR = 4;
    static final int ECHO = 5;
    static final int SOLICITATION = 6;
    static final int ADVERTISEMENT = 7;
    static final int OTHER_ICMP = 8;
    static final int TUNNEL = 9;
    static final int IPV4 = 10;
    static final int ADVANCE = 11;
    static final int OPS = 12;

    /** What {@link #ipv6Frame} may write as the destination. */
    static final String[] FIXED_DESTINATIONS = {
      CLIENT0_IP6,
      CORE0_IP6,
      HS0_IP6,
      ORIGIN6,
      HOST_SERVER6,
      "2001:2:0:1::77",
      "ff02::1",
      "ff02::1:ff00:1",
    };

    /** Addresses that matter to the sample config, and a few that do not. */
    static final String[] ADDRESSES = {
      CLIENT6,
      ORIGIN6,
      HOST_SERVER6,
      CLIENT0_IP6,
      CORE0_IP6,
      HS0_IP6,
      "2001:2:0:1::77", // on link, unknown: needs neighbour discovery
      "2001:2:0:2::77",
      "2001:2:0:9::1", // no route
      "fe80::1", // link-local
      "fe80::ff:fe00:101", // the router's link-local address on client0
      "ff02::1", // all nodes
      "ff02::2", // all routers
      "ff02::1:ff00:1", // the solicited-node group of the router's ::1 addresses
      "ff02::1:ff00:10", // a neighbour's
      "ff05::1:3", // a multicast group of a wider scope
      "::", // unspecified
      "::1", // loopback
    };

    private static final int[] IPV4_OPS = {
      FrameOps.RAW,
      FrameOps.TCP,
      FrameOps.UDP,
      FrameOps.FRAGMENT,
      FrameOps.ARP_REQUEST,
      FrameOps.ARP_REPLY,
      FrameOps.ICMP_ERROR,
      FrameOps.ECHO
    };

    private Frame6Ops() {}

    static byte[] build(int op, int ingress, FuzzedDataProvider data) {
      if (op == RAW) {
        return data.consumeBytes(data.consumeInt(0, FrameOps.RAW_MAX));
      }
      if (op == IPV4) {
        return FrameOps.build(data.pickValue(IPV4_OPS), ingress, data);
      }
      long[] source = address(data);
      long[] destination = address(data);
      int macChoice = data.consumeInt(0, 15);
      long dstMac =
          macChoice == 0
              ? EthernetHeader.BROADCAST
              : Ipv6Header.isMulticast(destination[0]) && macChoice > 2
                  ? Ipv6Header.multicastMac(destination[1])
                  : INTERFACE_MACS[ingress];
      PacketBuilder b = PacketBuilder.ethernet(CLIENT_MAC, dstMac);
      if (data.consumeInt(0, 7) == 0) {
        b.vlan(data.consumeInt(0, 0xFFF));
      }
      if (op == TUNNEL && data.consumeBoolean()) {
        // IPv6 in IPv4 (protocol 41), to one of the IPv4 addresses that matter.
        byte[] inner = innerPacket(source, destination, data);
        b.ipv4(
                FrameOps.ADDRESSES[data.consumeInt(0, FrameOps.ADDRESSES.length - 1)],
                FrameOps.ADDRESSES[data.consumeInt(0, FrameOps.ADDRESSES.length - 1)])
            .ttl(data.consumeInt(0, 255))
            .protocol(Ipv6Header.NEXT_HEADER_IPV6)
            .ipPayload(inner);
        return FrameOps.mutate(b.build(), data);
      }
      b.ipv6(source[0], source[1], destination[0], destination[1])
          .hopLimit(data.consumeInt(0, 255))
          .flowLabel(data.consumeInt(0, 0xF_FFFF))
          .trafficClass(data.consumeInt(0, 255));
      extensionHeaders(b, data);
      switch (op) {
        case TCP -> FrameOps.tcp(b, data);
        case UDP -> FrameOps.udp(b, SIX_IN_FOUR_PORT, data);
        case FRAGMENT ->
            b.ipv6Fragment(
                    8 * data.consumeInt(0, 200), data.consumeBoolean(), data.consumeInt(0, 3))
                .nextHeader(data.pickValue(new int[] {6, 17, 58, 0, 44}))
                .ipPayload(data.consumeBytes(data.consumeInt(0, 1600)));
        case ICMP_ERROR ->
            b.icmpv6Error(
                data.pickValue(new int[] {1, 2, 3, 4, 137}),
                data.consumeInt(0, 7),
                data.consumeInt(),
                data.consumeBoolean()
                    ? quotedFlow(data)
                    : data.consumeBytes(data.consumeInt(0, 1600)));
        case ECHO ->
            b.icmpv6Echo(data.consumeInt(0, 65535), data.consumeInt(0, 65535))
                .payload(data.consumeInt(0, 1600));
        case SOLICITATION, ADVERTISEMENT -> {
          if (data.consumeInt(0, 3) != 0) {
            b.hopLimit(255); // RFC 4861 §7.1: anything else is not from the link
          }
          long[] target = data.consumeBoolean() ? ourAddress(ingress, data) : address(data);
          int option = data.consumeInt(0, 3);
          byte[] body = new byte[16 + (option == 0 ? 0 : 8)];
          UnsafeBuffer t = new UnsafeBuffer(body);
          Ipv6Header.address(t, 0, target[0], target[1]);
          if (option != 0) {
            // Source (1) or target (2) link-layer address, or a wrong kind (3).
            body[16] = (byte) (op == SOLICITATION ? (option == 3 ? 2 : 1) : (option == 3 ? 1 : 2));
            body[17] = (byte) (option == 2 ? data.consumeInt(0, 3) : 1);
            writeMac(body, 18, 0x0200_0000_0000L | data.consumeInt(0, 0xFFFF));
          }
          b.icmpv6Error(
              op == SOLICITATION
                  ? Icmpv6Header.TYPE_NEIGHBOUR_SOLICITATION
                  : Icmpv6Header.TYPE_NEIGHBOUR_ADVERTISEMENT,
              data.consumeInt(0, 3) == 0 ? data.consumeInt(0, 255) : 0,
              op == SOLICITATION ? 0 : data.consumeInt(0, 7) << 29,
              body);
        }
        case OTHER_ICMP ->
            b.icmpv6Error(
                data.pickValue(new int[] {129, 130, 133, 134, 137, 143, 200}),
                data.consumeInt(0, 255),
                data.consumeInt(),
                data.consumeBytes(data.consumeInt(0, 200)));
        case TUNNEL ->
            b.nextHeader(Ipv6Header.NEXT_HEADER_IPV6)
                .ipPayload(innerPacket(source, destination, data));
        default -> throw new IllegalStateException("op " + op);
      }
      return FrameOps.mutate(b.build(), data);
    }

    /**
     * Up to four extension headers of any kind, order and length (so misordered and repeated chains
     * too): hop-by-hop, routing, destination options, fragment (atomic or not).
     */
    private static void extensionHeaders(PacketBuilder b, FuzzedDataProvider data) {
      int count = data.consumeInt(0, 7);
      for (int i = 0; i < count && i < 4; i++) {
        int kind = data.consumeInt(0, 3);
        if (kind == 3) {
          b.ipv6Fragment(8 * data.consumeInt(0, 3), data.consumeBoolean(), data.consumeInt(0, 3));
        } else {
          b.extensionHeader(
              new int[] {
                    Ipv6Header.NEXT_HEADER_HOP_BY_HOP,
                    Ipv6Header.NEXT_HEADER_ROUTING,
                    Ipv6Header.NEXT_HEADER_DESTINATION_OPTIONS
                  }
                  [kind],
              8 * data.consumeInt(1, 4));
        }
      }
    }

    /** The IPv6 packet a tunnel carries: UDP or TCP between two of the addresses. */
    private static byte[] innerPacket(long[] source, long[] destination, FuzzedDataProvider data) {
      PacketBuilder inner =
          PacketBuilder.ethernet(0, 0)
              .ipv6(source[0], source[1], destination[0], destination[1])
              .hopLimit(data.consumeInt(0, 255));
      if (data.consumeBoolean()) {
        inner.tcp(data.consumeInt(1, 65535), HTTP).flags(data.consumeInt(0, 255));
      } else {
        inner.udp(data.consumeInt(1, 65535), SIX_IN_FOUR_PORT);
      }
      byte[] frame = inner.payload(data.consumeInt(0, 1400)).build();
      return java.util.Arrays.copyOfRange(frame, EthernetHeader.LENGTH, frame.length);
    }

    /**
     * The start of a packet of a service's flow, origin to client, as an ICMPv6 error from a router
     * on the way quotes it: the redirector steers the error to that flow's host server.
     */
    private static byte[] quotedFlow(FuzzedDataProvider data) {
      boolean udp = data.consumeBoolean();
      PacketBuilder q = PacketBuilder.ethernet(0, 0).ipv6(ORIGIN6, CLIENT6);
      if (udp) {
        q.udp(SIX_IN_FOUR_PORT, data.consumeInt(1, 65535));
      } else {
        q.tcp(HTTP, data.consumeInt(1, 65535));
      }
      byte[] frame = q.payload(data.consumeInt(0, 1400)).build();
      int cut = data.consumeInt(Ipv6Header.LENGTH, frame.length - EthernetHeader.LENGTH);
      return java.util.Arrays.copyOfRange(
          frame, EthernetHeader.LENGTH, EthernetHeader.LENGTH + cut);
    }

    private static long[] address(FuzzedDataProvider data) {
      int i = data.consumeInt(0, ADDRESSES.length);
      return i == ADDRESSES.length
          ? new long[] {data.consumeLong(), data.consumeLong()}
          : Ipv6Header.parseAddress(ADDRESSES[i]);
    }

    /** The router's address on the ingress link (global or link-local), or another's. */
    private static long[] ourAddress(int ingress, FuzzedDataProvider data) {
      return switch (data.consumeInt(0, 2)) {
        case 0 -> Ipv6Header.parseAddress(new String[] {CLIENT0_IP6, CORE0_IP6, HS0_IP6}[ingress]);
        case 1 ->
            new long[] {
              0xFE80_0000_0000_0000L,
              net.hydranet.forwarding.config.RouterAddress6.linkLocalLow(INTERFACE_MACS[ingress])
            };
        default ->
            Ipv6Header.parseAddress(
                new String[] {CLIENT0_IP6, CORE0_IP6, HS0_IP6}[data.consumeInt(0, 2)]);
      };
    }
  }
}
