package net.hydranet.hostserver.replica;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The host server's end of a replica's channel: payloads reach a replica that reads, in order; a
 * replica that stops reading is cut off, and the sender is never held up by it.
 */
class ReplicaChannelTest {
  @TempDir Path dir;
  private final ReplicaCounters counters = new ReplicaCounters();
  private ReplicaChannel channel;

  @AfterEach
  void close() {
    if (channel != null) {
      channel.close();
    }
  }

  private SocketChannel connect() throws Exception {
    Path sock = dir.resolve("channel.sock");
    int uid = (Integer) Files.getAttribute(dir, "unix:uid");
    channel = ReplicaChannel.open("web-1", sock, uid, counters);
    channel.start(payload -> {});
    SocketChannel replica = SocketChannel.open(StandardProtocolFamily.UNIX);
    replica.connect(UnixDomainSocketAddress.of(sock));
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (!channel.connected() && System.nanoTime() < deadline) {
      Thread.sleep(1);
    }
    assertTrue(channel.connected(), "the channel accepted the replica");
    return replica;
  }

  private static byte[] readFrame(SocketChannel c) throws IOException {
    ByteBuffer head = ByteBuffer.allocate(4);
    readFully(c, head);
    ByteBuffer body = ByteBuffer.allocate(head.getInt(0));
    readFully(c, body);
    return body.array();
  }

  private static void readFully(SocketChannel c, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      if (c.read(b) < 0) {
        throw new EOFException();
      }
    }
  }

  @Test
  void shouldDeliverPayloadsInOrderToAReplicaThatReads() throws Exception {
    try (SocketChannel replica = connect()) {
      for (int i = 0; i < 100; i++) {
        assertTrue(channel.send(("push " + i).getBytes()));
      }
      for (int i = 0; i < 100; i++) {
        assertArrayEquals(("push " + i).getBytes(), readFrame(replica));
      }
      assertEquals(0, counters.get(ReplicaCounter.CHANNEL_STALLS));
    }
  }

  @Test
  void shouldCutOffAReplicaThatStopsReadingWithoutBlockingTheSender() throws Exception {
    try (SocketChannel replica = connect()) {
      byte[] object = new byte[1 << 20];
      int accepted = 0;
      long longestSendNanos = 0;
      boolean refused = false;
      // Bounded: the queue holds MAX_QUEUED bytes, the socket a few hundred KiB more.
      int limit = (int) (ReplicaChannel.MAX_QUEUED / object.length) + 64;
      for (int i = 0; i < limit && !refused; i++) {
        long start = System.nanoTime();
        boolean sent = channel.send(object);
        longestSendNanos = Math.max(longestSendNanos, System.nanoTime() - start);
        if (sent) {
          accepted++;
        } else {
          refused = true;
        }
      }
      assertTrue(refused, "a replica that never reads was cut off after " + accepted + " MiB");
      assertTrue(
          accepted * (long) object.length >= ReplicaChannel.MAX_QUEUED / 2,
          "it had its queue first: " + accepted + " MiB");
      assertTrue(
          longestSendNanos < 1_000_000_000L,
          "no send waited on the replica: longest " + longestSendNanos / 1_000_000 + " ms");
      assertEquals(1, counters.get(ReplicaCounter.CHANNEL_STALLS));
      assertFalse(channel.send(new byte[] {1}), "nothing more goes to the closed connection");
      assertTrue(channel.queuedBytes() == 0, "the queue went with the connection");
      // The replica finds its connection closed once it reads what the socket still held.
      ByteBuffer sink = ByteBuffer.allocate(1 << 16);
      int n = 0;
      for (int reads = 0; reads < 100_000 && n >= 0; reads++) {
        sink.clear();
        n = replica.read(sink);
      }
      assertEquals(-1, n, "end of stream at the replica");
    }
  }
}
