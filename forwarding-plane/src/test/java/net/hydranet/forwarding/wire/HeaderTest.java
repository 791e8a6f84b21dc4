package net.hydranet.forwarding.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class HeaderTest {
  @Test
  void shouldRoundTripAddressesAndMacs() {
    assertEquals(0xC6120001, Ipv4Header.parseAddress("198.18.0.1"));
    assertEquals(
        "198.19.255.254", Ipv4Header.formatAddress(Ipv4Header.parseAddress("198.19.255.254")));
    assertEquals(0x0200_5e10_0001L, EthernetHeader.parseMac("02:00:5e:10:00:01"));
    assertEquals("02:00:5e:10:00:01", EthernetHeader.formatMac(0x0200_5e10_0001L));
    assertThrows(IllegalArgumentException.class, () -> Ipv4Header.parseAddress("1.2.3"));
    assertThrows(IllegalArgumentException.class, () -> Ipv4Header.parseAddress("1.2.3.256"));
    assertThrows(
        IllegalArgumentException.class, () -> EthernetHeader.parseMac("zz:00:00:00:00:00"));
  }

  @Test
  void shouldReadFieldsInNetworkOrder() {
    byte[] bytes = new byte[20];
    bytes[0] = 0x46;
    bytes[2] = 0x05;
    bytes[3] = (byte) 0xdc;
    bytes[6] = 0x40 | 0x20 | 0x01;
    bytes[7] = 0x02;
    UnsafeBuffer b = new UnsafeBuffer(bytes);
    assertEquals(4, Ipv4Header.version(b, 0));
    assertEquals(24, Ipv4Header.headerLength(b, 0));
    assertEquals(1500, Ipv4Header.totalLength(b, 0));
    assertEquals(true, Ipv4Header.dontFragment(b, 0));
    assertEquals(true, Ipv4Header.isFragment(b, 0));
    assertEquals(0x102 * 8, Ipv4Header.fragmentOffset(b, 0));
  }

  @Test
  void shouldFindMssOptionAndStopOnMalformedOptions() {
    UnsafeBuffer b = new UnsafeBuffer(new byte[40]);
    // NOP, NOP, MSS(4)=1460, then a SACK-permitted and EOL.
    byte[] options = {1, 1, 2, 4, 0x05, (byte) 0xb4, 4, 2, 0, 0, 0, 0};
    b.putBytes(20, options);
    assertEquals(22, TcpHeader.mssOptionOffset(b, 0, 32));
    // An option whose length runs past the header is not trusted.
    b.putBytes(20, new byte[] {8, 40, 2, 4, 0x05, (byte) 0xb4, 0, 0});
    assertEquals(TcpHeader.NO_OPTION, TcpHeader.mssOptionOffset(b, 0, 28));
    // A zero-length option would loop forever if trusted.
    b.putBytes(20, new byte[] {8, 0, 2, 4, 0x05, (byte) 0xb4, 0, 0});
    assertEquals(TcpHeader.NO_OPTION, TcpHeader.mssOptionOffset(b, 0, 28));
  }
}
