package net.hydranet.replica;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.Signature;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The authenticated framing over a real loopback socket pair. A forged peer writes raw frames, so
 * every way of breaking the protocol is tried byte by byte; each must end in a ProtocolException on
 * the host server's side within the socket timeout, never a hang.
 */
class ReplicaSessionTest {
  private static final int MANAGER = 0x7f000001;
  private static final int HOST_SERVER = 0x7f000002;
  private static final int LIMIT = 1 << 20;
  private static final Duration BOUND = Duration.ofSeconds(10);

  private final KeyPair manager = TestKeys.generate();
  private final KeyPair hostServer = TestKeys.generate();
  private ServerSocket listener;
  private ExecutorService pool;

  @BeforeEach
  void listen() throws IOException {
    listener = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
    pool = Executors.newCachedThreadPool();
  }

  @AfterEach
  void close() throws Exception {
    listener.close();
    pool.shutdownNow();
    assertTrue(pool.awaitTermination(5, TimeUnit.SECONDS), "a session thread hung");
  }

  /** The host server's side: accepts one connection, authenticates a manager with our key. */
  private Future<ReplicaSession> acceptHostServer() {
    return pool.submit(
        () -> {
          Socket s = listener.accept();
          s.setSoTimeout(3000);
          return ReplicaSession.open(
              s,
              ReplicaSession.ROLE_HOST_SERVER,
              HOST_SERVER,
              hostServer.getPrivate(),
              (address, role, remote) -> {
                if (!address.equals(ReplicaSession.ipv4(MANAGER))) {
                  throw new ProtocolException("unknown sender");
                }
                if (role != ReplicaSession.ROLE_MANAGER) {
                  throw new ProtocolException("role " + role + " may not connect");
                }
                return manager.getPublic();
              },
              LIMIT);
        });
  }

  private ReplicaSession openManager() throws IOException {
    Socket s = new Socket(listener.getInetAddress(), listener.getLocalPort());
    s.setSoTimeout(3000);
    return ReplicaSession.open(
        s,
        ReplicaSession.ROLE_MANAGER,
        MANAGER,
        manager.getPrivate(),
        (address, role, remote) -> hostServer.getPublic(),
        LIMIT);
  }

  /** The failure the host server's side met, which must be a ProtocolException. */
  private static ProtocolException failure(Future<?> f) {
    Exception e =
        assertThrows(
            java.util.concurrent.ExecutionException.class, () -> f.get(8, TimeUnit.SECONDS));
    assertTrue(
        e.getCause() instanceof ProtocolException,
        "expected a ProtocolException, got " + e.getCause());
    return (ProtocolException) e.getCause();
  }

  /**
   * A peer that sends its HELLO a byte every 100 ms never lets one read wait its 3 s timeout; with
   * a deadline for the whole HELLO the handshake ends when it passes, whatever still trickles in.
   */
  @Test
  void shouldEndATricklingHelloAtItsDeadline() throws Exception {
    Future<Long> server =
        pool.submit(
            () -> {
              try (Socket s = listener.accept()) {
                s.setSoTimeout(3000);
                long t0 = System.nanoTime();
                assertThrows(
                    ReplicaSession.HelloTimeoutException.class,
                    () ->
                        ReplicaSession.open(
                            s,
                            ReplicaSession.ROLE_HOST_SERVER,
                            HOST_SERVER,
                            hostServer.getPrivate(),
                            (address, role, remote) -> manager.getPublic(),
                            LIMIT,
                            t0 + 500_000_000L));
                return (System.nanoTime() - t0) / 1_000_000;
              }
            });
    try (Socket peer = new Socket(listener.getInetAddress(), listener.getLocalPort())) {
      byte[] hello = new byte[4 + ReplicaSession.MAX_HELLO_FRAME];
      hello[3] = (byte) ReplicaSession.MAX_HELLO_FRAME;
      try {
        for (int i = 0; i < hello.length && !server.isDone(); i++) {
          peer.getOutputStream().write(hello[i]);
          Thread.sleep(100);
        }
      } catch (IOException e) {
        // the host server's side closed it
      }
      long ms = server.get(5, TimeUnit.SECONDS);
      assertTrue(ms >= 450 && ms < 1500, "ended after " + ms + " ms");
    }
  }

  @Test
  void shouldHandshakeBothWaysAndCarryFramesInOrder() {
    assertTimeoutPreemptively(
        BOUND,
        () -> {
          Future<ReplicaSession> server = acceptHostServer();
          try (ReplicaSession m = openManager();
              ReplicaSession h = server.get(5, TimeUnit.SECONDS)) {
            assertEquals(ReplicaSession.ipv4(HOST_SERVER), m.peerAddress());
            assertEquals(1, m.peerVersion(), "an IPv4 node says version 1");
            assertEquals(ReplicaSession.ROLE_HOST_SERVER, m.peerRole());
            assertEquals(ReplicaSession.ipv4(MANAGER), h.peerAddress());
            assertEquals(1, h.peerVersion());
            assertEquals(ReplicaSession.ROLE_MANAGER, h.peerRole());
            byte[] body = new Body.Writer().str("web-1").u32(250).toByteArray();
            assertEquals(1, m.send(RmType.REMOVE, body));
            assertEquals(2, m.send(RmType.STATUS, new Body.Writer().str("").toByteArray()));
            Frame f = h.receive();
            assertEquals(RmType.REMOVE, f.type());
            assertEquals(1, f.sequence());
            assertArrayEquals(body, f.body());
            Frame g = h.receive();
            assertEquals(RmType.STATUS, g.type());
            assertEquals(2, g.sequence());
            byte[] big = new byte[300_000];
            Arrays.fill(big, (byte) 7);
            h.send(RmType.APP, new Body.Writer().str("web-1").bytes(big).toByteArray());
            Frame a = m.receive();
            assertEquals(RmType.APP, a.type());
            assertEquals(1, a.sequence());
            Body.Reader r = a.reader();
            assertEquals("web-1", r.str());
            assertArrayEquals(big, r.bytes());
            r.end();
          }
        });
  }

  /** A forged manager: writes HELLO and frames by hand with the key it chooses. */
  private static final class Raw implements AutoCloseable {
    final Socket socket;
    final DataOutputStream out;
    final DataInputStream in;
    final PrivateKey key;
    byte[] peerNonce;

    Raw(ServerSocket listener, PrivateKey key) throws IOException {
      socket = new Socket(listener.getInetAddress(), listener.getLocalPort());
      socket.setSoTimeout(3000);
      out = new DataOutputStream(socket.getOutputStream());
      in = new DataInputStream(socket.getInputStream());
      this.key = key;
    }

    static byte[] hello(int role, int address) {
      return new Body.Writer()
          .u8(ReplicaSession.VERSION)
          .u8(role)
          .u32(address)
          .raw(new byte[ReplicaSession.NONCE])
          .toByteArray();
    }

    /** Sends HELLO and reads the host server's, keeping its nonce. */
    Raw handshake(int role, int address) throws Exception {
      out.write(frame(RmType.HELLO.code, 0, hello(role, address), new byte[16]));
      readHello();
      return this;
    }

    void readHello() throws IOException {
      int length = in.readInt();
      byte[] f = new byte[length];
      in.readFully(f);
      peerNonce = Arrays.copyOfRange(f, 9 + 6, 9 + 6 + 16);
    }

    byte[] frame(int type, long seq, byte[] body, byte[] nonce) throws Exception {
      Body.Writer head = new Body.Writer().u8(type).u64(seq).raw(body);
      byte[] signed = head.toByteArray();
      Signature s = Signature.getInstance("Ed25519");
      s.initSign(key);
      s.update("HNRM1".getBytes(StandardCharsets.US_ASCII));
      s.update(nonce);
      s.update(signed);
      byte[] sig = s.sign();
      return new Body.Writer().u32(signed.length + 64).raw(signed).raw(sig).toByteArray();
    }

    /** A frame signed over the host server's nonce, as a correct manager would send it. */
    byte[] frame(RmType type, long seq, byte[] body) throws Exception {
      return frame(type.code, seq, body, peerNonce);
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  private static byte[] status() {
    return new Body.Writer().str("").toByteArray();
  }

  @Test
  void shouldAcceptAHandWrittenManager() {
    assertTimeoutPreemptively(
        BOUND,
        () -> {
          Future<ReplicaSession> server = acceptHostServer();
          try (Raw raw = new Raw(listener, manager.getPrivate())) {
            raw.handshake(ReplicaSession.ROLE_MANAGER, MANAGER);
            raw.out.write(raw.frame(RmType.STATUS, 1, status()));
            try (ReplicaSession h = server.get(5, TimeUnit.SECONDS)) {
              assertEquals(RmType.STATUS, h.receive().type());
            }
          }
        });
  }

  /** Runs the forged client's script and expects the host server's side to refuse it. */
  private ProtocolException refusedAfterHandshake(ThrowingScript script) {
    return assertTimeoutPreemptively(
        BOUND,
        () -> {
          Future<ReplicaSession> server = acceptHostServer();
          Future<Frame> received =
              pool.submit(
                  () -> {
                    try (ReplicaSession h = server.get(5, TimeUnit.SECONDS)) {
                      return h.receive();
                    }
                  });
          try (Raw raw = new Raw(listener, manager.getPrivate())) {
            raw.handshake(ReplicaSession.ROLE_MANAGER, MANAGER);
            script.run(raw);
            return failure(received);
          }
        });
  }

  @FunctionalInterface
  private interface ThrowingScript {
    void run(Raw raw) throws Exception;
  }

  @Test
  void shouldRefuseATamperedByte() {
    ProtocolException e =
        refusedAfterHandshake(
            raw -> {
              byte[] f = raw.frame(RmType.STATUS, 1, new Body.Writer().str("web").toByteArray());
              f[4 + 9 + 2] ^= 1; // a byte of the name
              raw.out.write(f);
            });
    assertTrue(e.getMessage().contains("signature"), e.getMessage());
  }

  @Test
  void shouldRefuseAFrameReplayedFromAnotherConnection() throws Exception {
    byte[] recorded;
    Future<ReplicaSession> first = acceptHostServer();
    try (Raw raw = new Raw(listener, manager.getPrivate())) {
      raw.handshake(ReplicaSession.ROLE_MANAGER, MANAGER);
      recorded = raw.frame(RmType.STATUS, 1, status());
      raw.out.write(recorded);
      try (ReplicaSession h = first.get(5, TimeUnit.SECONDS)) {
        assertEquals(RmType.STATUS, h.receive().type());
      }
    }
    ProtocolException e = refusedAfterHandshake(raw -> raw.out.write(recorded));
    assertTrue(e.getMessage().contains("signature"), e.getMessage());
  }

  @Test
  void shouldRefuseASequenceGap() {
    ProtocolException e =
        refusedAfterHandshake(raw -> raw.out.write(raw.frame(RmType.STATUS, 2, status())));
    assertTrue(e.getMessage().contains("sequence"), e.getMessage());
  }

  @Test
  void shouldRefuseAReplayWithinTheConnection() {
    assertTimeoutPreemptively(
        BOUND,
        () -> {
          Future<ReplicaSession> server = acceptHostServer();
          try (Raw raw = new Raw(listener, manager.getPrivate())) {
            raw.handshake(ReplicaSession.ROLE_MANAGER, MANAGER);
            byte[] f = raw.frame(RmType.STATUS, 1, status());
            raw.out.write(f);
            raw.out.write(f);
            try (ReplicaSession h = server.get(5, TimeUnit.SECONDS)) {
              h.receive();
              assertThrows(ProtocolException.class, h::receive);
            }
          }
        });
  }

  @Test
  void shouldRefuseAnOversizeLength() {
    ProtocolException e = refusedAfterHandshake(raw -> raw.out.writeInt(LIMIT + 1));
    assertTrue(e.getMessage().contains("limit"), e.getMessage());
  }

  @Test
  void shouldRefuseAnUnknownType() {
    refusedAfterHandshake(raw -> raw.out.write(raw.frame(99, 1, status(), raw.peerNonce)));
  }

  @Test
  void shouldRefuseASecondHello() {
    refusedAfterHandshake(
        raw ->
            raw.out.write(
                raw.frame(
                    RmType.HELLO.code,
                    1,
                    Raw.hello(ReplicaSession.ROLE_MANAGER, MANAGER),
                    raw.peerNonce)));
  }

  /** Runs a forged HELLO and expects the handshake itself to fail. */
  private ProtocolException refusedHandshake(PrivateKey key, ThrowingScript script) {
    return assertTimeoutPreemptively(
        BOUND,
        () -> {
          Future<ReplicaSession> server = acceptHostServer();
          try (Raw raw = new Raw(listener, key)) {
            script.run(raw);
            return failure(server);
          }
        });
  }

  @Test
  void shouldRefuseAnUnknownSenderKey() {
    PrivateKey stranger = TestKeys.generate().getPrivate();
    ProtocolException e =
        refusedHandshake(
            stranger,
            raw ->
                raw.out.write(
                    raw.frame(
                        RmType.HELLO.code,
                        0,
                        Raw.hello(ReplicaSession.ROLE_MANAGER, MANAGER),
                        new byte[16])));
    assertTrue(e.getMessage().contains("signature"), e.getMessage());
  }

  @Test
  void shouldRefuseAnUnknownSenderAddress() {
    ProtocolException e =
        refusedHandshake(
            manager.getPrivate(),
            raw ->
                raw.out.write(
                    raw.frame(
                        RmType.HELLO.code,
                        0,
                        Raw.hello(ReplicaSession.ROLE_MANAGER, 0x7f000009),
                        new byte[16])));
    assertTrue(e.getMessage().contains("unknown sender"), e.getMessage());
  }

  @Test
  void shouldRefuseTheWrongRole() {
    for (int role : new int[] {ReplicaSession.ROLE_HOST_SERVER, 7}) {
      refusedHandshake(
          manager.getPrivate(),
          raw ->
              raw.out.write(
                  raw.frame(RmType.HELLO.code, 0, Raw.hello(role, MANAGER), new byte[16])));
    }
  }

  @Test
  void shouldRefuseANonHelloFirstFrame() {
    ProtocolException e =
        refusedHandshake(
            manager.getPrivate(),
            raw -> raw.out.write(raw.frame(RmType.STATUS.code, 1, status(), new byte[16])));
    assertTrue(e.getMessage().contains("HELLO"), e.getMessage());
  }

  @Test
  void shouldRefuseAHelloWithANonZeroSequence() {
    refusedHandshake(
        manager.getPrivate(),
        raw ->
            raw.out.write(
                raw.frame(
                    RmType.HELLO.code,
                    5,
                    Raw.hello(ReplicaSession.ROLE_MANAGER, MANAGER),
                    new byte[16])));
  }

  @Test
  void shouldRefuseABigFirstFrameBeforeReadingIt() {
    ProtocolException e =
        refusedHandshake(
            manager.getPrivate(), raw -> raw.out.writeInt(ReplicaSession.MAX_HELLO_FRAME + 1));
    assertTrue(e.getMessage().contains("not a HELLO"), e.getMessage());
  }

  @Test
  void shouldRefuseAHelloThatLiesAboutItsBody() {
    refusedHandshake(
        manager.getPrivate(),
        raw -> raw.out.write(raw.frame(RmType.HELLO.code, 0, new byte[] {1, 1, 0}, new byte[16])));
  }

  @Test
  void shouldRefuseAHelloOfAnUnknownVersionOrFamilyAsUnsupported() {
    byte[][] bodies = {
      new Body.Writer().u8(3).u8(1).u32(MANAGER).raw(new byte[16]).toByteArray(),
      new Body.Writer().u8(2).u8(1).u8(5).u32(MANAGER).raw(new byte[16]).toByteArray(),
    };
    for (byte[] body : bodies) {
      ProtocolException e =
          refusedHandshake(
              manager.getPrivate(),
              raw -> raw.out.write(raw.frame(RmType.HELLO.code, 0, body, new byte[16])));
      assertTrue(e instanceof UnsupportedHelloException, e.toString());
    }
  }

  @Test
  void shouldAcceptAVersionTwoHelloOfFamilyFourFromAnIpv4Peer() {
    assertTimeoutPreemptively(
        BOUND,
        () -> {
          Future<ReplicaSession> server = acceptHostServer();
          try (Raw raw = new Raw(listener, manager.getPrivate())) {
            byte[] v2 =
                new Hello(
                        2, ReplicaSession.ROLE_MANAGER, ReplicaSession.ipv4(MANAGER), new byte[16])
                    .encode();
            raw.out.write(raw.frame(RmType.HELLO.code, 0, v2, new byte[16]));
            raw.readHello();
            raw.out.write(raw.frame(RmType.STATUS, 1, status()));
            try (ReplicaSession h = server.get(5, TimeUnit.SECONDS)) {
              assertEquals(2, h.peerVersion());
              assertEquals(ReplicaSession.ipv4(MANAGER), h.peerAddress());
              assertEquals(RmType.STATUS, h.receive().type());
            }
          }
        });
  }

  @Test
  void shouldTimeOutASilentPeer() {
    assertTimeoutPreemptively(
        BOUND,
        () -> {
          Future<ReplicaSession> server = acceptHostServer();
          try (Raw raw = new Raw(listener, manager.getPrivate())) {
            assertTrue(raw.socket.isConnected());
            Exception e =
                assertThrows(
                    java.util.concurrent.ExecutionException.class,
                    () -> server.get(8, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof java.net.SocketTimeoutException, e.toString());
          }
        });
  }
}
