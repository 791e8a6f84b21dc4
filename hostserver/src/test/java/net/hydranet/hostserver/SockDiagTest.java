package net.hydranet.hostserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import net.hydranet.forwarding.wire.Ipv4Header;
import org.junit.jupiter.api.Test;

/** The live socket table: the request's bytes, and real answers of this kernel over loopback. */
class SockDiagTest {
  private static final int LOOPBACK = Ipv4Header.parseAddress("127.0.0.1");

  @Test
  void shouldAskForOneTcpConnectionByItsExactTuple() {
    Netlink netlink = new Netlink(SockDiag.REQUEST_LENGTH, 64);
    SockDiag.writeRequest(
        netlink,
        7,
        Ipv4Header.parseAddress("198.18.2.10"),
        80,
        Ipv4Header.parseAddress("198.18.0.10"),
        40000);
    assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN, "netlink headers in host order");
    String expected =
        "48000000"
            + "1400"
            + "0100"
            + "07000000"
            + "00000000" // nlmsghdr: 72, SOCK_DIAG_BY_FAMILY
            + "02"
            + "06"
            + "00"
            + "00"
            + "ffffffff" // AF_INET, TCP, no ext, every state
            + "0050"
            + "9c40" // ports, network order: origin 80, client 40000
            + "c612020a"
            + "000000000000000000000000" // origin
            + "c612000a"
            + "000000000000000000000000" // client
            + "00000000"
            + "ffffffffffffffff"; // any interface, INET_DIAG_NOCOOKIE
    byte[] bytes = new byte[SockDiag.REQUEST_LENGTH];
    netlink.request().getBytes(0, bytes);
    assertEquals(expected, HexFormat.of().formatHex(bytes));
  }

  /** An inet_diag_msg's first bytes: family, then the socket's state. */
  private static byte[] diagMessage(int seq, int state) {
    return NetlinkPeer.message(20, seq, new byte[] {2, (byte) state, 0, 0});
  }

  @Test
  void shouldReadEachAnswerOfTheKernelAndTakeABrokenOrMissingOneAsUnknown() {
    SockDiag diag = new SockDiag();
    try (NetlinkPeer kernel = new NetlinkPeer()) {
      diag.install(LOOPBACK, kernel.handOver());
      // Each query's verdict, then the datagrams queued as the kernel's answer to it.
      Object[][] queries = {
        {SocketTable.HELD, diagMessage(1, 1)}, // ESTABLISHED
        {SocketTable.NOT_HELD, diagMessage(2, 10)}, // LISTEN: not the connection's own socket
        // A late answer to the query before, skipped; then ENOENT.
        {SocketTable.NOT_HELD, diagMessage(2, 1), NetlinkPeer.error(3, -2)},
        {SocketTable.UNKNOWN, NetlinkPeer.error(4, -13)}, // EACCES
        {SocketTable.UNKNOWN, Arrays.copyOf(diagMessage(5, 1), 18)}, // a length beyond its datagram
        {SocketTable.UNKNOWN, NetlinkPeer.message(20, 6, new byte[1])}, // too short for its state
        {SocketTable.UNKNOWN}, // no answer at all
      };
      for (int q = 0; q < queries.length; q++) {
        for (int d = 1; d < queries[q].length; d++) {
          kernel.answer((byte[]) queries[q][d]);
        }
        int seq = q + 1;
        assertEquals(
            (int) queries[q][0], diag.lookup(LOOPBACK, 80, LOOPBACK, 40000), "query " + seq);
        byte[] request = kernel.request();
        assertEquals(SockDiag.REQUEST_LENGTH, request.length);
        assertEquals(seq, ByteBuffer.wrap(request).order(ByteOrder.nativeOrder()).getInt(8));
      }
    } finally {
      diag.closeAll();
    }
  }

  @Test
  void shouldFindAnEstablishedConnectionAndNotAListenerOrNothing() throws IOException {
    int fd;
    try {
      fd = SockDiag.openIn(Path.of("/proc/self/ns/net"));
    } catch (IOException e) {
      assumeTrue(false, "cannot open a sock_diag socket here (needs CAP_SYS_ADMIN): " + e);
      return;
    }
    SockDiag diag = new SockDiag();
    diag.install(LOOPBACK, fd);
    InetAddress lo = InetAddress.getByName("127.0.0.1");
    try (ServerSocket server = new ServerSocket(0, 4, lo);
        Socket client = new Socket()) {
      client.connect(new InetSocketAddress(lo, server.getLocalPort()));
      try (Socket accepted = server.accept()) {
        int port = server.getLocalPort();
        assertEquals(client.getLocalPort(), accepted.getPort());
        assertEquals(
            SocketTable.HELD, diag.lookup(LOOPBACK, port, LOOPBACK, client.getLocalPort()));
        // The same port, another client: only the listener matches, which holds no connection.
        assertEquals(
            SocketTable.NOT_HELD,
            diag.lookup(LOOPBACK, port, LOOPBACK, client.getLocalPort() ^ 0x0101));
        // A port nothing listens on.
        int unused;
        ServerSocket closed = new ServerSocket(0, 1, lo);
        unused = closed.getLocalPort();
        closed.close();
        assertEquals(SocketTable.NOT_HELD, diag.lookup(LOOPBACK, unused, LOOPBACK, 40000));
        // An origin with no socket table: no answer.
        assertEquals(
            SocketTable.UNKNOWN,
            diag.lookup(Ipv4Header.parseAddress("198.18.2.10"), port, LOOPBACK, 40000));
      }
    } finally {
      diag.closeAll();
    }
  }
}
