package net.hydranet.control.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Signature;
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
 * The byte-exact version-2 vectors of control-plane/IPV6.md ("Test vectors, version 2"), read from
 * IPV6.md itself as {@link CodecVectorsTest} reads PROTOCOL.md's: the same RFC 8032 key and nodes,
 * an IPv6 origin from the documentation prefix 2001:db8::/32 (RFC 3849).
 */
class CodecV2VectorsTest {
  static final long[] ORIGIN6 = Addresses.parseIpv6("2001:db8::80");
  static final long T = CodecVectorsTest.T;
  static final int HS = CodecVectorsTest.HOST_SERVER;
  static final int RD = CodecVectorsTest.REDIRECTOR;

  static Map<String, Message> messages() {
    Service web6 = Service.ipv6(ORIGIN6[0], ORIGIN6[1], 6, 80);
    Entry http = new Entry(CodecVectorsTest.ORIGIN, 6, 80, HS, 100, 12, 0);
    Entry http6 = new Entry(web6, HS, 100, 12, 0);
    Entry dns = new Entry(CodecVectorsTest.ORIGIN, 17, 53, HS, 50, 12, 0);
    int v2 = Codec.VERSION_2;
    Map<String, Message> m = new LinkedHashMap<>();
    m.put(
        "hello-v2",
        new Message(
            MessageType.HELLO,
            RD,
            T + 11,
            3000,
            Message.ROLE_REDIRECTOR,
            List.of(),
            Codec.VERSION,
            Codec.MAX_VERSION,
            true));
    m.put(
        "announce-v2",
        new Message(MessageType.ANNOUNCE, HS, T + 12, 3000, 0, List.of(http, http6), v2, 0, false));
    m.put(
        "withdraw-v2",
        new Message(MessageType.WITHDRAW, HS, T + 13, 3000, 0, List.of(http6), v2, 0, false));
    m.put(
        "update-v2",
        new Message(
            MessageType.UPDATE,
            RD,
            T + 14,
            3000,
            0,
            List.of(http6.withDistance(1), dns.withDistance(Codec.INFINITY)),
            v2,
            0,
            false));
    return m;
  }

  static Map<String, byte[]> documented() throws IOException {
    Path doc = Path.of("IPV6.md");
    if (!Files.exists(doc)) {
      doc = Path.of("control-plane", "IPV6.md");
    }
    Matcher m =
        Pattern.compile("```\\nvector: ([\\w-]+)\\n(.*?)```", Pattern.DOTALL)
            .matcher(Files.readString(doc));
    Map<String, byte[]> out = new LinkedHashMap<>();
    while (m.find()) {
      out.put(m.group(1), HexFormat.of().parseHex(m.group(2).replaceAll("\\s", "")));
    }
    return out;
  }

  @Test
  void shouldEncodeAndSignEveryMessageAsIPV6mdSays() throws IOException {
    Map<String, byte[]> doc = documented();
    Signer signer = new Signer(CodecVectorsTest.rfcPrivateKey());
    StringBuilder expected = new StringBuilder();
    boolean same = doc.keySet().equals(messages().keySet());
    for (var e : messages().entrySet()) {
      byte[] datagram = signer.sign(Codec.encodeUnsigned(e.getValue()));
      expected.append(CodecVectorsTest.render(e.getKey(), datagram)).append('\n');
      same &= java.util.Arrays.equals(datagram, doc.get(e.getKey()));
    }
    assertTrue(same, "IPV6.md's vectors differ; as built they are:\n" + expected);
  }

  @Test
  void shouldDecodeVerifyAndAdmitEveryVector() throws Exception {
    Authorisations auth =
        new Authorisations(
            List.of(new Authorisations.Rule(CodecVectorsTest.ORIGIN & 0xffffff00, 24, Set.of(HS))),
            List.of(new Authorisations.Rule6(ORIGIN6[0], 0, 32, Set.of(HS))));
    Signature verifier = Signature.getInstance("Ed25519");
    for (var e : documented().entrySet()) {
      Message m = messages().get(e.getKey());
      byte[] d = e.getValue();
      assertEquals(m, Codec.decode(d, d.length), e.getKey());
      verifier.initVerify(CodecVectorsTest.rfcPublicKey());
      verifier.update(d, 0, d.length - Codec.SIGNATURE);
      assertTrue(verifier.verify(d, d.length - Codec.SIGNATURE, Codec.SIGNATURE), e.getKey());
      int role = m.sender() == RD ? Message.ROLE_REDIRECTOR : Message.ROLE_HOST_SERVER;
      Gatekeeper g =
          new Gatekeeper(
              Map.of(m.sender(), new Peer(m.sender(), role, CodecVectorsTest.rfcPublicKey(), 1)),
              auth,
              1_000_000L);
      try {
        assertEquals(m, g.admit(d, d.length, m.sender(), T), e.getKey());
        assertEquals(0, g.unauthorisedEntries(), e.getKey());
      } catch (Refused r) {
        throw new AssertionError(e.getKey() + ": " + r.reason() + " " + r.getMessage(), r);
      }
    }
  }

  @Test
  void shouldRefuseAnIpv6EntryNoIpv6RuleCovers() throws Exception {
    // The IPv4 rule for 198.51.100.0/24 alone: the IPv6 entry is unauthorised, the IPv4 one stands.
    Authorisations ipv4Only =
        new Authorisations(
            List.of(new Authorisations.Rule(CodecVectorsTest.ORIGIN & 0xffffff00, 24, Set.of(HS))));
    byte[] d = documented().get("announce-v2");
    Gatekeeper g =
        new Gatekeeper(
            Map.of(HS, new Peer(HS, Message.ROLE_HOST_SERVER, CodecVectorsTest.rfcPublicKey(), 1)),
            ipv4Only,
            1_000_000L);
    Message m = g.admit(d, d.length, HS, T);
    assertEquals(1, g.unauthorisedEntries());
    assertEquals(1, m.entries().size());
    assertTrue(m.entries().get(0).isIpv4());
  }
}
