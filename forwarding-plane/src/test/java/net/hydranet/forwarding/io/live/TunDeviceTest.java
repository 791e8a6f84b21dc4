package net.hydranet.forwarding.io.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import net.hydranet.forwarding.wire.InternetChecksum;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A TUN interface in the JVM's namespace, 198.19.255.1/30: an echo request written in from
 * 198.19.255.2 is answered by the kernel, and the reply is read back out of the same device.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TunDeviceTest {
  private static final String TUN = "hnlvtun0";
  private static final int LOCAL = Net.ipv4(198, 19, 255, 1);
  private static final int PEER = Net.ipv4(198, 19, 255, 2);
  private static final int ECHO_ID = 0x4E4C;

  private TunDevice tun;

  @BeforeEach
  void setUp() {
    assumeTrue(Net.isRoot(), "needs root (CAP_NET_ADMIN) to create a TUN interface");
    // A stale persistent device of the same name would be attached to instead of created.
    Net.quiet("ip", "link", "del", TUN);
  }

  @AfterEach
  void tearDown() {
    if (tun != null) {
      tun.close();
    }
    Net.quiet("ip", "link", "del", TUN);
  }

  @Test
  void shouldCarryAnEchoRequestInAndTheKernelsReplyOut() throws Exception {
    tun = TunDevice.open(TUN);
    assertEquals(TUN, tun.name());
    Net.disableIpv6(null, TUN);
    Net.sh("ip", "addr", "add", "198.19.255.1/30", "dev", TUN);
    Net.sh("ip", "link", "set", TUN, "up");

    final UnsafeBuffer in = Net.direct(2048);
    assertEquals(0, tun.read(in, 0, 2048), "nothing waiting: 0, not an error");
    assertEquals(0, tun.readErrors());

    final UnsafeBuffer request = Net.direct(2048);
    final int length = echoRequest(request, 0, 7);
    assertTrue(tun.write(request, 0, length), "errno " + tun.lastErrno());

    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (System.nanoTime() < deadline) {
      final int n = tun.read(in, 0, 2048);
      assertTrue(n >= 0, () -> "read failed: " + TunDevice.describeErrno(tun.lastErrno()));
      if (n == 0) {
        Thread.sleep(1);
        continue;
      }
      if ((in.getByte(0) & 0xF0) != 0x40 || in.getByte(9) != 1) {
        continue; // not ICMPv4: something else the stack sent out of the new interface
      }
      final int ihl = (in.getByte(0) & 0x0F) * 4;
      assertEquals(LOCAL, in.getInt(12, ByteOrder.BIG_ENDIAN));
      assertEquals(PEER, in.getInt(16, ByteOrder.BIG_ENDIAN));
      assertTrue(InternetChecksum.verify(in, 0, ihl), "IPv4 header checksum");
      assertEquals(0, in.getByte(ihl), "ICMP type 0: echo reply");
      assertEquals(ECHO_ID, in.getShort(ihl + 4, ByteOrder.BIG_ENDIAN) & 0xFFFF);
      assertEquals(7, in.getShort(ihl + 6, ByteOrder.BIG_ENDIAN));
      assertEquals(length, n, "the reply echoes the request's payload");
      assertTrue(InternetChecksum.verify(in, ihl, n - ihl), "ICMP checksum");
      return;
    }
    fail("no echo reply within 5 s");
  }

  @Test
  void shouldStageHeapBuffers() throws Exception {
    tun = TunDevice.open(TUN);
    Net.disableIpv6(null, TUN);
    Net.sh("ip", "addr", "add", "198.19.255.1/30", "dev", TUN);
    Net.sh("ip", "link", "set", TUN, "up");
    final UnsafeBuffer request = new UnsafeBuffer(new byte[256]);
    final int length = echoRequest(request, 0, 9);
    assertTrue(tun.write(request, 0, length));
    final UnsafeBuffer in = new UnsafeBuffer(new byte[2048]);
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (System.nanoTime() < deadline) {
      final int n = tun.read(in, 0, 2048);
      if (n > 20 && in.getByte(9) == 1 && in.getShort(26, ByteOrder.BIG_ENDIAN) == 9) {
        return;
      }
      Thread.sleep(1);
    }
    fail("no echo reply within 5 s");
  }

  /** ICMP echo request 198.19.255.2 → 198.19.255.1 with a 16-byte payload (RFC 792). */
  private static int echoRequest(UnsafeBuffer b, int o, int sequence) {
    final int icmpLength = 8 + 16;
    final int icmp = Net.ipv4Header(b, o, 1, PEER, LOCAL, icmpLength);
    b.putByte(icmp, (byte) 8);
    b.putByte(icmp + 1, (byte) 0);
    b.putShort(icmp + 2, (short) 0, ByteOrder.BIG_ENDIAN);
    b.putShort(icmp + 4, (short) ECHO_ID, ByteOrder.BIG_ENDIAN);
    b.putShort(icmp + 6, (short) sequence, ByteOrder.BIG_ENDIAN);
    for (int i = 0; i < 16; i++) {
      b.putByte(icmp + 8 + i, (byte) ('a' + i));
    }
    // The ICMP checksum covers the ICMP header and data (RFC 792), computed with the field zero.
    b.putShort(
        icmp + 2, (short) InternetChecksum.checksum(b, icmp, icmpLength), ByteOrder.BIG_ENDIAN);
    return icmp + icmpLength - o;
  }
}
