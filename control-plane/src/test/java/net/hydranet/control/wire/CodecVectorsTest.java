package net.hydranet.control.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.hydranet.control.auth.Authorisations;
import net.hydranet.control.auth.Gatekeeper;
import net.hydranet.control.auth.Peer;
import net.hydranet.control.auth.Signer;
import net.hydranet.control.wire.Malformed.Refused;
import org.junit.jupiter.api.Test;

/**
 * The byte-exact vectors of PROTOCOL.md ("Test vectors"), read from PROTOCOL.md itself so the two
 * cannot drift: each message is encoded and signed with RFC 8032's first test key (Ed25519 is
 * deterministic, so the signature is fixed too) and compared with the hex there, byte for byte;
 * then the hex is decoded back to the same message, its signature verified with the RFC's public
 * key, and the datagram admitted by a gatekeeper that trusts that key.
 */
class CodecVectorsTest {
  /** RFC 8032 §7.1, TEST 1: the secret key, and its public key. */
  static final String RFC8032_SECRET =
      "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

  static final String RFC8032_PUBLIC =
      "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

  /** The DER an Ed25519 key needs around its 32 bytes (RFC 8410 §7 and §4). */
  private static final String PKCS8_PREFIX = "302e020100300506032b657004220420";

  private static final String SPKI_PREFIX = "302a300506032b6570032100";

  static final int HOST_SERVER = Addresses.parse("192.0.2.1");
  static final int REDIRECTOR = Addresses.parse("192.0.2.2");
  static final int ORIGIN = Addresses.parse("198.51.100.80");
  static final long T = 1_700_000_000_000_000L; // 2023-11-14T22:13:20Z, in µs

  static PrivateKey rfcPrivateKey() {
    try {
      return KeyFactory.getInstance("Ed25519")
          .generatePrivate(
              new PKCS8EncodedKeySpec(HexFormat.of().parseHex(PKCS8_PREFIX + RFC8032_SECRET)));
    } catch (GeneralSecurityException e) {
      throw new AssertionError(e);
    }
  }

  static PublicKey rfcPublicKey() {
    try {
      return KeyFactory.getInstance("Ed25519")
          .generatePublic(
              new X509EncodedKeySpec(HexFormat.of().parseHex(SPKI_PREFIX + RFC8032_PUBLIC)));
    } catch (GeneralSecurityException e) {
      throw new AssertionError(e);
    }
  }

  /** The messages of PROTOCOL.md's vectors, by the name each vector carries there. */
  static Map<String, Message> messages() {
    Entry http = new Entry(ORIGIN, 6, 80, HOST_SERVER, 100, 12, 0);
    Entry dns = new Entry(ORIGIN, 17, 53, HOST_SERVER, 50, 12, 0);
    Map<String, Message> m = new LinkedHashMap<>();
    m.put(
        "hello",
        new Message(
            MessageType.HELLO, HOST_SERVER, T + 1, 3000, Message.ROLE_HOST_SERVER, List.of()));
    m.put("keepalive", new Message(MessageType.KEEPALIVE, HOST_SERVER, T + 2, 3000, 0, List.of()));
    m.put(
        "announce",
        new Message(MessageType.ANNOUNCE, HOST_SERVER, T + 3, 3000, 0, List.of(http, dns)));
    m.put("withdraw", new Message(MessageType.WITHDRAW, HOST_SERVER, T + 4, 3000, 0, List.of(dns)));
    m.put(
        "update",
        new Message(
            MessageType.UPDATE,
            REDIRECTOR,
            T + 5,
            3000,
            0,
            List.of(http.withDistance(1), dns.withDistance(Codec.INFINITY))));
    m.put("request", new Message(MessageType.REQUEST, REDIRECTOR, T + 6, 3000, 0, List.of()));
    m.put("goodbye", new Message(MessageType.KEEPALIVE, HOST_SERVER, T + 7, 0, 0, List.of()));
    return m;
  }

  /** The vectors written in PROTOCOL.md: a fenced block whose first line is "vector: NAME". */
  static Map<String, byte[]> documented() throws IOException {
    Path doc = Path.of("PROTOCOL.md");
    if (!Files.exists(doc)) {
      doc = Path.of("control-plane", "PROTOCOL.md");
    }
    Matcher m =
        Pattern.compile("```\\nvector: (\\w+)\\n(.*?)```", Pattern.DOTALL)
            .matcher(Files.readString(doc));
    Map<String, byte[]> out = new LinkedHashMap<>();
    while (m.find()) {
      out.put(m.group(1), HexFormat.of().parseHex(m.group(2).replaceAll("\\s", "")));
    }
    return out;
  }

  /** As PROTOCOL.md writes a vector: 16 bytes a line, the signature on lines of its own. */
  static String render(String name, byte[] datagram) {
    StringBuilder sb = new StringBuilder("```\nvector: ").append(name).append('\n');
    int signed = datagram.length - Codec.SIGNATURE;
    for (int part = 0; part < 2; part++) {
      int from = part == 0 ? 0 : signed;
      int to = part == 0 ? signed : datagram.length;
      for (int i = from; i < to; i += 16) {
        sb.append(HexFormat.ofDelimiter(" ").formatHex(datagram, i, Math.min(to, i + 16)));
        sb.append('\n');
      }
    }
    return sb.append("```\n").toString();
  }

  @Test
  void shouldDeriveTheRfcPublicKeyFromTheRfcSecretKey() throws GeneralSecurityException {
    // RFC 8032 §7.1 TEST 1: the empty message's signature, with our PKCS#8 wrapping.
    Signature s = Signature.getInstance("Ed25519");
    s.initSign(rfcPrivateKey());
    assertEquals(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
            + "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        HexFormat.of().formatHex(s.sign()));
  }

  @Test
  void shouldEncodeAndSignEveryMessageAsPROTOCOLmdSays() throws IOException {
    Map<String, byte[]> doc = documented();
    Map<String, Message> messages = messages();
    assertEquals(messages.keySet(), doc.keySet(), "the vectors in PROTOCOL.md");
    Set<MessageType> types = java.util.EnumSet.noneOf(MessageType.class);
    Signer signer = new Signer(rfcPrivateKey());
    StringBuilder expected = new StringBuilder();
    boolean same = true;
    for (var e : messages.entrySet()) {
      byte[] datagram = signer.sign(Codec.encodeUnsigned(e.getValue()));
      expected.append(render(e.getKey(), datagram)).append('\n');
      same &= java.util.Arrays.equals(datagram, doc.get(e.getKey()));
      types.add(e.getValue().type());
    }
    assertTrue(same, "PROTOCOL.md's vectors differ; as built they are:\n" + expected);
    assertEquals(Set.of(MessageType.values()), types, "one vector of every type");
  }

  @Test
  void shouldDecodeEveryVectorBackAndVerifyItsSignature() throws Exception {
    Map<String, Message> messages = messages();
    Signature verifier = Signature.getInstance("Ed25519");
    for (var e : documented().entrySet()) {
      byte[] d = e.getValue();
      assertEquals(messages.get(e.getKey()), Codec.decode(d, d.length), e.getKey());
      verifier.initVerify(rfcPublicKey());
      verifier.update(d, 0, d.length - Codec.SIGNATURE);
      assertTrue(verifier.verify(d, d.length - Codec.SIGNATURE, Codec.SIGNATURE), e.getKey());
      assertArrayEquals(
          Codec.encodeUnsigned(messages.get(e.getKey())),
          java.util.Arrays.copyOf(d, d.length - Codec.SIGNATURE),
          e.getKey());
    }
  }

  @Test
  void shouldAdmitEveryVectorThroughAGatekeeperThatTrustsTheKey() throws Refused, IOException {
    Authorisations auth =
        new Authorisations(
            List.of(new Authorisations.Rule(ORIGIN & 0xffffff00, 24, Set.of(HOST_SERVER))));
    for (var e : documented().entrySet()) {
      Message m = messages().get(e.getKey());
      int role =
          switch (m.type()) {
            case UPDATE, REQUEST -> Message.ROLE_REDIRECTOR;
            default -> Message.ROLE_HOST_SERVER;
          };
      Gatekeeper g =
          new Gatekeeper(
              Map.of(m.sender(), new Peer(m.sender(), role, rfcPublicKey(), 1)), auth, 1_000_000L);
      byte[] d = e.getValue();
      assertEquals(m, g.admit(d, d.length, m.sender(), T), e.getKey());
    }
  }
}
