package net.hydranet.replica;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.EdECPrivateKeySpec;
import java.security.spec.NamedParameterSpec;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * HELLO's two versions byte for byte. The golden vectors were made outside Java, with Python's
 * {@code cryptography} 48 (Ed25519 of RFC 8032, deterministic): the key is the seed 0x20..0x3f, the
 * version-1 body is REPLICAS.md's layout as it was before version 2 existed (so these bytes are
 * what every earlier node sent and reads), the version-2 body the new layout.
 */
class HelloTest {
  private static final HexFormat HEX = HexFormat.of();

  // role manager, 198.18.2.100, nonce 00..0f
  private static final String V1_BODY = "0101c6120264000102030405060708090a0b0c0d0e0f";
  private static final String V1_FRAME =
      "0000005f000000000000000000"
          + V1_BODY
          + "b2a11cc08bddab4cb00a0ab0971ecf2afb1ee595b29826dd22a0413888742c1b"
          + "fc241beae764ef62ea986ac59290c5f30098c4ceb0cc25192c6c9c750301ef0f";

  // role host server, family 6, 2001:2:0:3::2, nonce 10..1f
  private static final String V2_BODY =
      "020206" + "20010002000000030000000000000002" + "101112131415161718191a1b1c1d1e1f";
  private static final String V2_FRAME =
      "0000006c000000000000000000"
          + V2_BODY
          + "345367e2d386cc630cc58bd3c07e9f133cf255d1edc05d3e328bc48bc14d343b"
          + "03425bec6b15bc572cfccfd6adf44cb5d9132c72f45e4df8a56cfc5f119f3c0f";

  private static byte[] nonce(int first) {
    byte[] n = new byte[16];
    for (int i = 0; i < 16; i++) {
      n[i] = (byte) (first + i);
    }
    return n;
  }

  private static Signature signer() throws Exception {
    byte[] seed = new byte[32];
    for (int i = 0; i < 32; i++) {
      seed[i] = (byte) (0x20 + i);
    }
    PrivateKey key =
        KeyFactory.getInstance("Ed25519")
            .generatePrivate(new EdECPrivateKeySpec(NamedParameterSpec.ED25519, seed));
    Signature s = Signature.getInstance("Ed25519");
    s.initSign(key);
    return s;
  }

  @Test
  void shouldSayVersionOneForAnIpv4AddressByteForByteAsBefore() throws Exception {
    Hello h =
        Hello.of(ReplicaSession.ROLE_MANAGER, InetAddress.getByName("198.18.2.100"), nonce(0));
    assertEquals(1, h.version());
    assertEquals(V1_BODY, HEX.formatHex(h.encode()));
    assertEquals(
        V1_FRAME,
        HEX.formatHex(ReplicaSession.frame(signer(), RmType.HELLO, 0, h.encode(), new byte[16])));
    assertEquals(95, HEX.parseHex(V1_FRAME).length - 4, "version 1's HELLO frame, as before");
  }

  @Test
  void shouldSayVersionTwoWithFamilySixForAnIpv6Address() throws Exception {
    Hello h =
        Hello.of(
            ReplicaSession.ROLE_HOST_SERVER, InetAddress.getByName("2001:2:0:3::2"), nonce(16));
    assertEquals(2, h.version());
    assertEquals(V2_BODY, HEX.formatHex(h.encode()));
    byte[] frame = ReplicaSession.frame(signer(), RmType.HELLO, 0, h.encode(), new byte[16]);
    assertEquals(V2_FRAME, HEX.formatHex(frame));
    assertEquals(ReplicaSession.MAX_HELLO_FRAME, frame.length - 4, "the largest HELLO");
  }

  @Test
  void shouldDecodeBothGoldenBodies() throws Exception {
    Hello v1 = Hello.decode(HEX.parseHex(V1_BODY));
    assertEquals(1, v1.version());
    assertEquals(ReplicaSession.ROLE_MANAGER, v1.role());
    assertEquals(InetAddress.getByName("198.18.2.100"), v1.address());
    assertArrayEquals(nonce(0), v1.nonce());
    Hello v2 = Hello.decode(HEX.parseHex(V2_BODY));
    assertEquals(2, v2.version());
    assertEquals(ReplicaSession.ROLE_HOST_SERVER, v2.role());
    assertTrue(v2.address() instanceof Inet6Address);
    assertEquals(InetAddress.getByName("2001:2:0:3::2"), v2.address());
    assertArrayEquals(nonce(16), v2.nonce());
  }

  @Test
  void shouldReadVersionTwoWithFamilyFourThoughItSendsVersionOne() throws Exception {
    byte[] body = HEX.parseHex("020104c6120264" + "000102030405060708090a0b0c0d0e0f");
    Hello h = Hello.decode(body);
    assertEquals(2, h.version());
    assertTrue(h.address() instanceof Inet4Address);
    assertEquals(InetAddress.getByName("198.18.2.100"), h.address());
    assertArrayEquals(body, h.encode(), "decoded as it was said");
  }

  @Test
  void shouldRefuseAnUnknownVersionOrFamilyAsUnsupported() {
    String nonce = "000102030405060708090a0b0c0d0e0f";
    UnsupportedHelloException v =
        assertThrows(
            UnsupportedHelloException.class,
            () -> Hello.decode(HEX.parseHex("0301c6120264" + nonce)));
    assertTrue(v.getMessage().contains("version 3"), v.getMessage());
    assertTrue(v.getMessage().contains("1 and 2"), v.getMessage());
    assertThrows(UnsupportedHelloException.class, () -> Hello.decode(HEX.parseHex("00")));
    assertThrows(UnsupportedHelloException.class, () -> Hello.decode(HEX.parseHex("ff01")));
    for (int family : new int[] {0, 1, 2, 5, 10, 41, 255}) {
      UnsupportedHelloException f =
          assertThrows(
              UnsupportedHelloException.class,
              () ->
                  Hello.decode(
                      HEX.parseHex(
                          String.format("0201%02x", family)
                              + "20010002000000030000000000000002"
                              + nonce)));
      assertTrue(f.getMessage().contains("family " + family), f.getMessage());
    }
  }

  @Test
  void shouldRefuseWrongLengthsAndAnIpv4MappedAddressAsMalformed() {
    String nonce = "000102030405060708090a0b0c0d0e0f";
    String[] malformed = {
      "", // nothing
      "01", // no role
      "0101c61202", // short address
      "0101c6120264" + nonce.substring(2), // short nonce
      "0101c6120264" + nonce + "00", // trailing byte
      "020106c6120264" + nonce, // family 6 with 4 bytes
      "020104" + "20010002000000030000000000000002" + nonce, // family 4 with 16 bytes
      "020106" + "00000000000000000000ffffc6120264" + nonce, // ::ffff:198.18.2.100
      "0101" + "20010002000000030000000000000002" + nonce, // version 1 with 16 bytes
    };
    for (String m : malformed) {
      ProtocolException e =
          assertThrows(ProtocolException.class, () -> Hello.decode(HEX.parseHex(m)), m);
      assertFalse(e instanceof UnsupportedHelloException, m + ": " + e);
    }
  }

  @Test
  void shouldNotBuildAVersionOneHelloOfAnIpv6Address() throws Exception {
    InetAddress v6 = InetAddress.getByName("2001:2:0:3::2");
    assertThrows(IllegalArgumentException.class, () -> new Hello(1, 1, v6, nonce(0)));
  }
}
