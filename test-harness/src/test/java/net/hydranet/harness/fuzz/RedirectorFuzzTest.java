package net.hydranet.harness.fuzz;

import static net.hydranet.harness.fixture.SampleTopology.*;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.harness.fixture.CapturingTxPort;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.harness.packet.PacketBuilder;
import net.hydranet.router.config.RedirectorConfig;

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
    RedirectorUnderTest redirector = rewoundRedirector();
    new RedirectorOracle(redirector).receive(ingress, frame);
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
    RedirectorUnderTest redirector = rewoundRedirector();
    new RedirectorOracle(redirector).receive(ingress, frame);
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
      RedirectorUnderTest redirector,
      FuzzedDataProvider data,
      java.util.List<CapturingTxPort.Sent> sent) {
    RedirectorOracle oracle = new RedirectorOracle(redirector);
    for (int n = 0; n < 64 && data.remainingBytes() > 0; n++) {
      int op = data.consumeInt(0, FrameOps.OPS - 1);
      if (op == FrameOps.ADVANCE) {
        redirector.advance(data.consumeLong(0, 10_000_000_000L));
        continue;
      }
      int ingress = data.consumeInt(0, 2);
      byte[] frame = FrameOps.build(op, ingress, data);
      if (frame != null) {
        java.util.List<CapturingTxPort.Sent> out = oracle.receive(ingress, frame);
        if (sent != null) {
          sent.addAll(out);
        }
      }
    }
  }

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
    RedirectorConfig config = RedirectorUnderTest.sampleConfig();
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
        case TCP -> {
          b.tcp(data.consumeInt(1, 65535), data.consumeBoolean() ? HTTP : data.consumeInt(0, 65535))
              .flags(data.consumeInt(0, 255));
          if (data.consumeBoolean()) {
            b.mss(data.consumeInt(0, 65535));
          }
          if (data.consumeInt(0, 3) == 0) {
            byte[] options = data.consumeBytes(4 * data.consumeInt(0, 9));
            b.tcpOptions(padTo4(options));
          }
          b.payload(data.consumeInt(0, 1600));
        }
        case UDP ->
            b.udp(
                    data.consumeInt(1, 65535),
                    data.consumeBoolean() ? DNS : data.consumeInt(0, 65535))
                .payload(data.consumeInt(0, 1600));
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
}
