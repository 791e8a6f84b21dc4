package net.hydranet.forwarding.element;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteOrder;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.wire.InternetChecksum;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.TcpHeader;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MssClampTest {
  /** Builds IPv4+TCP SYN with {@code pad} NOPs before the MSS option and a full TCP checksum. */
  private static UnsafeBuffer syn(int pad, int mss, int flags) {
    int optionBytes = (pad + 4 + 3) & ~3;
    int tcpLength = 20 + optionBytes;
    UnsafeBuffer b = new UnsafeBuffer(new byte[20 + tcpLength + 5]);
    Ipv4Header.write(b, 0, 0, 20 + tcpLength + 5, 1, 0, 64, 6, 0xC6120101, 0xC6120202);
    int tcp = 20;
    b.putShort(tcp, (short) 40000, ByteOrder.BIG_ENDIAN);
    b.putShort(tcp + 2, (short) 80, ByteOrder.BIG_ENDIAN);
    b.putByte(tcp + 12, (byte) ((tcpLength / 4) << 4));
    b.putByte(tcp + 13, (byte) flags);
    for (int i = 0; i < pad; i++) {
      b.putByte(tcp + 20 + i, (byte) 1);
    }
    b.putBytes(tcp + 20 + pad, new byte[] {2, 4, (byte) (mss >>> 8), (byte) mss});
    for (int i = tcp + 20 + pad + 4; i < tcp + tcpLength; i++) {
      b.putByte(i, (byte) 0);
    }
    b.putBytes(tcp + tcpLength, new byte[] {9, 8, 7, 6, 5});
    TcpHeader.checksum(b, tcp, tcpChecksum(b));
    return b;
  }

  private static int tcpChecksum(UnsafeBuffer b) {
    int tcpLength = Ipv4Header.totalLength(b, 0) - 20;
    long pseudo =
        (Ipv4Header.source(b, 0) >>> 16)
            + (Ipv4Header.source(b, 0) & 0xFFFF)
            + (Ipv4Header.destination(b, 0) >>> 16)
            + (Ipv4Header.destination(b, 0) & 0xFFFF)
            + 6
            + tcpLength;
    int saved = TcpHeader.checksum(b, 20);
    TcpHeader.checksum(b, 20, 0);
    int c = ~InternetChecksum.fold(InternetChecksum.sum(b, 20, tcpLength, pseudo)) & 0xFFFF;
    TcpHeader.checksum(b, 20, saved);
    return c;
  }

  @ParameterizedTest(name = "{0} NOPs before the option")
  @ValueSource(ints = {0, 1, 2, 3})
  void shouldClampAndKeepTheChecksumValidAtAnyAlignment(int pad) {
    UnsafeBuffer b = syn(pad, 1460, TcpHeader.FLAG_SYN);
    assertTrue(new MssClamp(new Counters()).clamp(b, 0, 1420));
    int option = TcpHeader.mssOptionOffset(b, 20, TcpHeader.headerLength(b, 20));
    assertEquals(1420, b.getShort(option + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF);
    assertEquals(tcpChecksum(b), TcpHeader.checksum(b, 20));
  }

  @ParameterizedTest(name = "flags {0}")
  @ValueSource(ints = {TcpHeader.FLAG_ACK, TcpHeader.FLAG_FIN | TcpHeader.FLAG_ACK})
  void shouldLeaveNonSynSegmentsAlone(int flags) {
    UnsafeBuffer b = syn(0, 1460, flags);
    assertFalse(new MssClamp(new Counters()).clamp(b, 0, 1420));
  }

  @ParameterizedTest(name = "MSS {0}")
  @ValueSource(ints = {536, 1420})
  void shouldNotRaiseASmallerMss(int mss) {
    UnsafeBuffer b = syn(0, mss, TcpHeader.FLAG_SYN | TcpHeader.FLAG_ACK);
    assertFalse(new MssClamp(new Counters()).clamp(b, 0, 1420));
  }
}
