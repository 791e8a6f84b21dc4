package net.hydranet.forwarding.element;

import static net.hydranet.forwarding.element.TestFrames.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import net.hydranet.forwarding.config.ForwardingContext;
import net.hydranet.forwarding.config.RouterInterface;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.io.TxPort;
import net.hydranet.forwarding.neighbour.NeighbourTable;
import net.hydranet.forwarding.table.RouteTable;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.Ipv4Header;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class IpOutputTest {
  private final Counters counters = new Counters();
  private final List<int[]> sent = new ArrayList<>(); // {port, frame length}
  private final UnsafeBuffer slot = TestFrames.slot();
  private final PacketContext packet = new PacketContext();
  private final IpOutput output;

  IpOutputTest() {
    ForwardingContext context = TestFrames.context(576).conclude();
    RouterInterface[] interfaces = context.interfaces().toArray(new RouterInterface[0]);
    RouteTable routes = new RouteTable(16);
    for (RouterInterface i : interfaces) {
      routes.add(i.network(), i.prefixLength(), 0, i.index());
    }
    routes.add(ip(198, 19, 0, 0), 16, GATEWAY, CORE_IF);
    NeighbourTable neighbours = new NeighbourTable(16, 4, 9_100, 2, 3, 1_000_000L, 60_000_000_000L);
    neighbours.putStatic(GATEWAY, GATEWAY_MAC, CORE_IF);
    neighbours.putStatic(HOST_SERVER, HOST_SERVER_MAC, HS_IF);
    TxPort[] ports = new TxPort[interfaces.length];
    for (int i = 0; i < ports.length; i++) {
      int index = i;
      ports[i] =
          new TxPort() {
            @Override
            public boolean send(DirectBuffer buffer, int offset, int length, long timestamp) {
              sent.add(new int[] {index, length});
              return true;
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
          };
    }
    Egress egress = new Egress(counters, interfaces, ports, neighbours);
    output = new IpOutput(routes, interfaces, new IpFragmenter(counters, 9_100), egress);
  }

  private int route(int address, int length) {
    packet.reset(null, HEADROOM, length);
    packet.l3 = ipOffset();
    return output.route(address, packet);
  }

  @Test
  void shouldRouteThroughTheGatewayOrOnLink() {
    assertEquals(IpOutput.ROUTED, route(ORIGIN, 0));
    assertEquals(CORE_IF, packet.egressInterface);
    assertEquals(GATEWAY, packet.nextHop);
    assertEquals(1500, packet.mtu);
    assertEquals(IpOutput.ROUTED, route(HOST_SERVER, 0));
    assertEquals(HOST_SERVER, packet.nextHop);
    assertEquals(576, packet.mtu);
    assertEquals(IpOutput.NO_ROUTE, route(ip(203, 0, 113, 1), 0));
  }

  @Test
  void shouldSendADatagramThatFitsWhole() {
    int length = tcp(slot, ORIGIN, 1, 80, 0, 100);
    route(ORIGIN, length);
    assertEquals(IpOutput.SENT, output.process(slot, packet));
    assertEquals(1, sent.size());
    assertEquals(CORE_IF, sent.get(0)[0]);
    assertEquals(length, sent.get(0)[1]);
  }

  @Test
  void shouldRefuseADfDatagramOverTheMtuAndSendNothing() {
    int length = tcp(slot, HOST_SERVER, 1, 80, 0, 600);
    setDontFragment(slot);
    route(HOST_SERVER, length);
    assertEquals(IpOutput.TOO_BIG, output.process(slot, packet));
    assertEquals(0, sent.size());
  }

  @Test
  void shouldFragmentADatagramOverTheMtuWithoutDf() {
    int length = tcp(slot, HOST_SERVER, 1, 80, 0, 1000);
    route(HOST_SERVER, length);
    assertEquals(IpOutput.SENT, output.process(slot, packet));
    assertEquals(2, sent.size());
    assertEquals(1, counters.get(Counter.FRAGMENTED_DATAGRAMS));
    for (int[] frame : sent) {
      assertEquals(HS_IF, frame[0]);
      assertEquals(true, frame[1] - EthernetHeader.LENGTH <= 576);
    }
    assertEquals(length - EthernetHeader.LENGTH, Ipv4Header.totalLength(slot, ipOffset()));
  }

  @Test
  void shouldLookUpTheSameRouteForACallerThatKeepsItInLocals() {
    int toOrigin = output.lookup(ORIGIN);
    assertEquals(CORE_IF, output.interfaceIndex(toOrigin));
    assertEquals(GATEWAY, output.nextHop(toOrigin, ORIGIN));
    int toHostServer = output.lookup(HOST_SERVER);
    assertEquals(HS_IF, output.interfaceIndex(toHostServer));
    assertEquals(HOST_SERVER, output.nextHop(toHostServer, HOST_SERVER));
    assertEquals(RouteTable.NOT_FOUND, output.lookup(ip(203, 0, 113, 1)));
  }

  @Test
  void shouldSendWithTheValuesItIsGivenAsProcessDoesWithTheContext() {
    int length = tcp(slot, HOST_SERVER, 1, 80, 0, 1000);
    int route = output.lookup(HOST_SERVER);
    assertEquals(
        IpOutput.SENT,
        output.send(
            slot,
            ipOffset(),
            576,
            output.interfaceIndex(route),
            output.nextHop(route, HOST_SERVER)));
    assertEquals(2, sent.size());
    assertEquals(1, counters.get(Counter.FRAGMENTED_DATAGRAMS));
    for (int[] frame : sent) {
      assertEquals(HS_IF, frame[0]);
      assertEquals(true, frame[1] - EthernetHeader.LENGTH <= 576);
    }
    assertEquals(length - EthernetHeader.LENGTH, Ipv4Header.totalLength(slot, ipOffset()));
    sent.clear();
    setDontFragment(slot);
    assertEquals(IpOutput.TOO_BIG, output.send(slot, ipOffset(), 576, HS_IF, HOST_SERVER));
    assertEquals(0, sent.size());
  }
}
