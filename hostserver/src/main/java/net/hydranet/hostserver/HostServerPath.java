package net.hydranet.hostserver;

import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.element.CheckIpHeader;
import net.hydranet.forwarding.element.EtherClassifier;
import net.hydranet.forwarding.element.IpReassembler;
import net.hydranet.forwarding.element.PacketContext;
import net.hydranet.forwarding.element.Verdict;
import net.hydranet.forwarding.pipeline.FrameProcessor;
import net.hydranet.forwarding.wire.GueHeader;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.forwarding.wire.UdpHeader;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;

/**
 * The host server's element chain (paper §4.1, "Decapsulation and Transport-Level Demultiplexing"):
 * check the outer header → reassemble outer fragments → strip the outer header (RFC 2003 §3, or the
 * second-chance tunnel's UDP and GUE) → check the inner header → virtual-host lookup → second
 * chance (pass on a segment whose connection is not here, SECOND-CHANCE.md) → inject: onto the
 * virtual host's own link when {@link #links} has it (a transmit ring, sent once per batch at
 * {@link #flush}), else into the local stack through the TUN sink. IPv6 arrives inside IPv4
 * (protocol 41) on the same path up to the inner header, or inside IPv6; {@link Ipv6Decapsulator}
 * takes it from there, onto the same links.
 *
 * <p>Frames that are not IP-in-IP addressed to this host server are the kernel's business: pcap is
 * a tap, so the kernel has its own copy, and they are only counted here.
 */
public final class HostServerPath implements FrameProcessor {
  private final int address;
  private final Counters counters;
  private final Counters outerChecks;
  private final PacketContext packet = new PacketContext();
  private final EtherClassifier classifier;
  private final CheckIpHeader checkOuter;
  private final CheckIpHeader checkInner;
  private final IpReassembler reassembler;
  private final VirtualHostTable virtualHosts;
  private final PacketSink sink;
  private final Ipv6Decapsulator ipv6;
  private final SecondChance secondChance;
  private VirtualHostLinks links;
  private long now;
  private volatile Runnable waker = () -> {};
  private final ManyToOneConcurrentArrayQueue<Runnable> commands =
      new ManyToOneConcurrentArrayQueue<>(1024);

  /**
   * @param address this host server's address: the outer destination it accepts
   * @param reassemblyContexts outer datagrams reassembled at once (a bound on memory)
   */
  public HostServerPath(
      int address,
      Counters counters,
      VirtualHostTable virtualHosts,
      PacketSink sink,
      int reassemblyContexts,
      long reassemblyTimeoutNanos) {
    this(
        address,
        null,
        counters,
        virtualHosts,
        sink,
        reassemblyContexts,
        reassemblyTimeoutNanos,
        null);
  }

  /** With IPv6-in-IPv6 to {@code address6}, without a second chance. */
  public HostServerPath(
      int address,
      long[] address6,
      Counters counters,
      VirtualHostTable virtualHosts,
      PacketSink sink,
      int reassemblyContexts,
      long reassemblyTimeoutNanos) {
    this(
        address,
        address6,
        counters,
        virtualHosts,
        sink,
        reassemblyContexts,
        reassemblyTimeoutNanos,
        null);
  }

  /** With a second chance, IPv6 only inside IPv4. */
  public HostServerPath(
      int address,
      Counters counters,
      VirtualHostTable virtualHosts,
      PacketSink sink,
      int reassemblyContexts,
      long reassemblyTimeoutNanos,
      SecondChance secondChance) {
    this(
        address,
        null,
        counters,
        virtualHosts,
        sink,
        reassemblyContexts,
        reassemblyTimeoutNanos,
        secondChance);
  }

  /**
   * @param address6 this host server's IPv6 address {high, low}, the outer destination of
   *     IPv6-in-IPv6 it accepts; null to take IPv6 only inside IPv4 (protocol 41)
   * @param secondChance segments of connections no virtual host here holds are passed on rather
   *     than injected ({@code null}: every segment is injected, as before; IPv6 always is)
   */
  public HostServerPath(
      int address,
      long[] address6,
      Counters counters,
      VirtualHostTable virtualHosts,
      PacketSink sink,
      int reassemblyContexts,
      long reassemblyTimeoutNanos,
      SecondChance secondChance) {
    this.address = address;
    this.ipv6 = new Ipv6Decapsulator(counters, virtualHosts, sink, address6);
    this.secondChance = secondChance;
    this.counters = counters;
    this.outerChecks = new Counters();
    // The redirector's classifier, without its MAC filter: the capture's kernel filter already
    // took only IP-in-IP to this host, and the kernel has its own copy of every frame anyway.
    this.classifier = new EtherClassifier(counters, HostServerCounter.DROP_BAD_OUTER.id(), false);
    this.checkOuter = new CheckIpHeader(outerChecks);
    this.checkInner = new CheckIpHeader(outerChecks);
    this.reassembler = new IpReassembler(reassemblyContexts, 9_100, reassemblyTimeoutNanos);
    this.virtualHosts = virtualHosts;
    this.sink = sink;
  }

  /**
   * Writes packets (IPv4 and IPv6) for a virtual host that has a link in {@code links} straight
   * onto it, not into the sink; before the pipeline starts (its table is then changed only by
   * {@link #command}s).
   */
  public HostServerPath links(VirtualHostLinks links) {
    this.links = links;
    ipv6.links(links);
    return this;
  }

  /** Drop reasons of the header checks, by forwarding-plane counter. */
  public Counters headerChecks() {
    return outerChecks;
  }

  public IpReassembler reassembler() {
    return reassembler;
  }

  @Override
  public void tick(long nowNanos) {
    now = nowNanos;
    commands.drain(Runnable::run, 64);
  }

  /**
   * Queues a change (to the virtual-host table) for the forwarding thread, which applies it between
   * frames: the table has one writer.
   */
  public void command(Runnable command) {
    while (!commands.offer(command)) {
      Thread.onSpinWait();
    }
    waker.run();
  }

  /**
   * What {@link #command} calls after queueing: the pipeline's {@code wake}, so that an idle
   * receive thread, which ticks only every 100 ms, applies the change at once.
   */
  public void waker(Runnable wake) {
    this.waker = wake;
  }

  @Override
  public void process(MutableDirectBuffer buffer, int offset, int length, int ingress) {
    count(HostServerCounter.RX_FRAMES);
    packet.reset(null, offset, length);
    int port = classifier.process(buffer, packet);
    if (port == EtherClassifier.DROP) {
      return; // shorter than its link header: counted as a bad outer frame
    }
    int ip = packet.l3;
    int available = packet.available;
    if (port == EtherClassifier.IPV6) {
      ipv6.outer(buffer, ip, available); // IPv6-in-IPv6, RFC 2473
      return;
    }
    if (port != EtherClassifier.IPV4
        || available < Ipv4Header.MIN_LENGTH
        || !isTunnel(buffer, ip, available)
        || Ipv4Header.destination(buffer, ip) != address) {
      count(HostServerCounter.NOT_TUNNELLED);
      return;
    }
    if (checkOuter.check(buffer, ip, available) != Verdict.CONTINUE) {
      count(HostServerCounter.DROP_BAD_OUTER);
      return;
    }
    DirectBuffer datagram = buffer;
    int outer = ip;
    if (Ipv4Header.isFragment(buffer, ip)) {
      int r = reassembler.offer(buffer, ip, now);
      if (r == IpReassembler.HELD) {
        count(HostServerCounter.OUTER_FRAGMENTS_HELD);
        return;
      }
      if (r == IpReassembler.DROPPED) {
        count(HostServerCounter.DROP_OUTER_FRAGMENT);
        return;
      }
      count(HostServerCounter.OUTER_REASSEMBLED);
      datagram = reassembler.buffer();
      outer = 0;
    }
    decapsulate(datagram, outer);
  }

  /**
   * IP-in-IP (RFC 2003), IPv6-in-IPv4 (RFC 4213 §3.5), or UDP to the second-chance port (any
   * non-first fragment of UDP: its port is in the first, and reassembly tells).
   */
  private static boolean isTunnel(DirectBuffer buffer, int ip, int available) {
    int protocol = Ipv4Header.protocol(buffer, ip);
    if (protocol == Ipv4Header.PROTOCOL_IPIP || protocol == Ipv6Header.NEXT_HEADER_IPV6) {
      return true;
    }
    if (protocol != Ipv4Header.PROTOCOL_UDP) {
      return false;
    }
    if (Ipv4Header.fragmentOffset(buffer, ip) != 0) {
      return true;
    }
    int udp = ip + Ipv4Header.headerLength(buffer, ip);
    return udp + UdpHeader.LENGTH <= ip + available
        && UdpHeader.destinationPort(buffer, udp) == GueHeader.PORT;
  }

  private void decapsulate(DirectBuffer datagram, int outer) {
    int outerHeader = Ipv4Header.headerLength(datagram, outer);
    int outerLength = Ipv4Header.totalLength(datagram, outer);
    int udp = -1;
    int inner = outer + outerHeader;
    if (Ipv4Header.protocol(datagram, outer) == Ipv4Header.PROTOCOL_UDP) {
      udp = inner;
      inner = GueHeader.innerOffset(datagram, udp, outerLength - outerHeader);
      if (inner < 0) {
        count(HostServerCounter.DROP_BAD_GUE);
        return;
      }
    }
    int innerAvailable = outerLength - (inner - outer);
    if (Ipv4Header.protocol(datagram, outer) == Ipv6Header.NEXT_HEADER_IPV6) {
      count(HostServerCounter.IPV6_IN_IPV4);
      ipv6.inject(datagram, inner, innerAvailable);
      return;
    }
    if (checkInner.check(datagram, inner, innerAvailable) != Verdict.CONTINUE) {
      count(HostServerCounter.DROP_BAD_INNER);
      return;
    }
    count(HostServerCounter.DECAPSULATED);
    int destination = Ipv4Header.destination(datagram, inner);
    if (!virtualHosts.isVirtualHost(destination)) {
      count(HostServerCounter.DROP_NO_VIRTUAL_HOST);
      return;
    }
    if (secondChance != null
        && secondChance.decide(datagram, outer, udp, inner, now) != SecondChance.LOCAL) {
      return; // passed on, or its write failed: counted there
    }
    int innerLength = Ipv4Header.totalLength(datagram, inner);
    if (links != null) {
      if (links.write(destination, datagram, inner, innerLength)) {
        count(HostServerCounter.INJECTED_LINK);
        count(HostServerCounter.INJECTED);
        counters.add(HostServerCounter.INJECTED_BYTES.id(), innerLength);
        return;
      }
      // The TUN delivers at once: what the links hold goes first, so a flow keeps its order.
      links.flush();
    }
    if (sink.write(datagram, inner, innerLength)) {
      count(HostServerCounter.INJECTED);
      counters.add(HostServerCounter.INJECTED_BYTES.id(), innerLength);
    } else {
      count(HostServerCounter.DROP_INJECT_FAILED);
    }
  }

  @Override
  public void flush() {
    if (links != null) {
      links.flush();
    }
  }

  private void count(HostServerCounter c) {
    counters.add(c.id(), 1);
  }
}
