package net.hydranet.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.security.KeyPair;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Signed bundles: built in memory with java.util.jar, signed, tampered with, opened. */
class BundleTest {
  private final KeyPair origin = TestKeys.generate();

  static Map<String, String> good() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("Main-Class", "net.example.Main");
    m.put("HydraNet-Origin", "198.18.2.10");
    m.put("HydraNet-Ports", "tcp/80 udp/53");
    m.put("HydraNet-Arguments", "--listen 0.0.0.0:80  --quiet");
    m.put("HydraNet-Memory", "256m");
    m.put("HydraNet-Cpus", "0.5");
    m.put("HydraNet-Pids", "64");
    m.put("HydraNet-Files", "256");
    return m;
  }

  static byte[] jar(Map<String, String> attributes) throws IOException {
    Manifest mf = new Manifest();
    mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    attributes.forEach((k, v) -> mf.getMainAttributes().putValue(k, v));
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    try (JarOutputStream j = new JarOutputStream(b, mf)) {
      j.putNextEntry(new JarEntry("net/example/Main.class"));
      j.write(new byte[] {(byte) 0xca, (byte) 0xfe, (byte) 0xba, (byte) 0xbe});
      j.closeEntry();
    }
    return b.toByteArray();
  }

  @Test
  void shouldOpenASignedBundle() throws Exception {
    byte[] jar = jar(good());
    byte[] sig = Bundle.sign(jar, origin.getPrivate());
    assertEquals(ReplicaSession.SIGNATURE, sig.length);
    Bundle b = Bundle.open(jar, sig, origin.getPublic());
    assertEquals("net.example.Main", b.mainClass());
    assertEquals(OriginAddress.parse("198.18.2.10"), b.origin());
    assertEquals(List.of("tcp/80", "udp/53"), b.ports());
    assertEquals(List.of("--listen", "0.0.0.0:80", "--quiet"), b.arguments());
    assertEquals(new Resources(256L << 20, 500, 64, 256), b.resources());
  }

  @Test
  void shouldOpenABundleOfAnIpv6Origin() throws Exception {
    Map<String, String> m = good();
    m.put("HydraNet-Origin", "2001:2:0:2:0:0:0:10");
    byte[] jar = jar(m);
    Bundle b = Bundle.open(jar, Bundle.sign(jar, origin.getPrivate()), origin.getPublic());
    assertEquals(OriginAddress.parse("2001:2:0:2::10"), b.origin());
    assertTrue(b.toString().contains(" for 2001:2:0:2::10 "), b.toString());
  }

  @ParameterizedTest
  @MethodSource("badOrigins")
  void shouldRefuseAnOriginThatIsNoUnicastAddressLiteral(String bad) throws Exception {
    Map<String, String> m = good();
    m.put("HydraNet-Origin", bad);
    byte[] jar = jar(m);
    byte[] sig = Bundle.sign(jar, origin.getPrivate());
    Bundle.BundleException e =
        assertThrows(Bundle.BundleException.class, () -> Bundle.open(jar, sig, origin.getPublic()));
    assertEquals(Refusal.BAD_MANIFEST, e.refusal(), e.getMessage());
    assertEquals("HydraNet-Origin", e.field(), e.getMessage());
  }

  static Stream<String> badOrigins() {
    return Stream.of(
        "::",
        "::1",
        "fe80::1",
        "ff02::1",
        "::ffff:198.18.2.10",
        "2001:2::10%eth0",
        "[2001:2::10]",
        "2001:2::10::1",
        "2001:2::g",
        "origin.example",
        "198.18.2");
  }

  @Test
  void shouldRefuseATamperedJar() throws Exception {
    byte[] jar = jar(good());
    byte[] sig = Bundle.sign(jar, origin.getPrivate());
    byte[] tampered = jar.clone();
    tampered[tampered.length / 2] ^= 1;
    assertRefused(Refusal.BAD_SIGNATURE, () -> Bundle.open(tampered, sig, origin.getPublic()));
    byte[] longer = Arrays.copyOf(jar, jar.length + 1);
    assertRefused(Refusal.BAD_SIGNATURE, () -> Bundle.open(longer, sig, origin.getPublic()));
  }

  @Test
  void shouldRefuseAnotherKey() throws Exception {
    byte[] jar = jar(good());
    byte[] sig = Bundle.sign(jar, TestKeys.generate().getPrivate());
    assertRefused(Refusal.BAD_SIGNATURE, () -> Bundle.open(jar, sig, origin.getPublic()));
    assertEquals(
        "signature",
        assertThrows(Bundle.BundleException.class, () -> Bundle.open(jar, sig, origin.getPublic()))
            .field());
  }

  @Test
  void shouldRefuseABadSignatureShape() throws Exception {
    byte[] jar = jar(good());
    byte[] sig = Bundle.sign(jar, origin.getPrivate());
    for (byte[] s :
        new byte[][] {
          Arrays.copyOf(sig, 63), Arrays.copyOf(sig, 65), new byte[0], new byte[64], null
        }) {
      assertRefused(Refusal.BAD_SIGNATURE, () -> Bundle.open(jar, s, origin.getPublic()));
    }
  }

  @Test
  void shouldNotParseAnUnsignedNonJar() {
    // Garbage with a wrong signature fails on the signature: the bytes are never parsed.
    assertRefused(
        Refusal.BAD_SIGNATURE,
        () -> Bundle.open(new byte[] {'P', 'K', 3, 4}, new byte[64], origin.getPublic()));
  }

  @Test
  void shouldRefuseASignedNonJar() {
    byte[] junk = "not a jar at all".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    byte[] sig = Bundle.sign(junk, origin.getPrivate());
    assertRefused(Refusal.BAD_MANIFEST, () -> Bundle.open(junk, sig, origin.getPublic()));
  }

  static Stream<Arguments> badManifests() {
    return Stream.of(
        Arguments.of("Main-Class", null, "Main-Class"),
        Arguments.of("Main-Class", "-Xmx1g", "Main-Class"),
        Arguments.of("HydraNet-Origin", null, "HydraNet-Origin"),
        Arguments.of("HydraNet-Origin", "198.18.2", "198.18.2"),
        Arguments.of("HydraNet-Origin", "198.18.2.256", "198.18.2.256"),
        Arguments.of("HydraNet-Ports", null, "HydraNet-Ports"),
        Arguments.of("HydraNet-Ports", "tcp/0", "tcp/0"),
        Arguments.of("HydraNet-Ports", "tcp/70000", "tcp/70000"),
        Arguments.of("HydraNet-Ports", "sctp/80", "sctp/80"),
        Arguments.of("HydraNet-Memory", null, "HydraNet-Memory"),
        Arguments.of("HydraNet-Memory", "lots", "lots"),
        Arguments.of("HydraNet-Memory", "1m", "memory"),
        Arguments.of("HydraNet-Memory", "99999999999g", "size"),
        Arguments.of("HydraNet-Cpus", "NaN", "cpus"),
        Arguments.of("HydraNet-Cpus", "100", "cpus"),
        Arguments.of("HydraNet-Pids", "0", "pids"),
        Arguments.of("HydraNet-Pids", "many", "many"),
        Arguments.of("HydraNet-Files", "8", "files"),
        Arguments.of("HydraNet-Files", null, "HydraNet-Files"));
  }

  @ParameterizedTest(name = "{0} = {1}")
  @MethodSource("badManifests")
  void shouldRefuseABadManifest(String field, String value, String said) throws Exception {
    Map<String, String> m = good();
    if (value == null) {
      m.remove(field);
    } else {
      m.put(field, value);
    }
    byte[] jar = jar(m);
    byte[] sig = Bundle.sign(jar, origin.getPrivate());
    Bundle.BundleException e =
        assertThrows(Bundle.BundleException.class, () -> Bundle.open(jar, sig, origin.getPublic()));
    assertEquals(Refusal.BAD_MANIFEST, e.refusal());
    assertTrue(e.getMessage().contains(said), e.getMessage());
    assertEquals(field, e.field(), "the attribute at fault, for the log: " + e.getMessage());
  }

  @Test
  void shouldSayWhichResourceExceedsTheGrant() {
    Resources grant = new Resources(256L << 20, 1000, 64, 1024);
    assertNull(new Resources(256L << 20, 1000, 64, 1024).exceeding(grant));
    assertNull(new Resources(16L << 20, 10, 1, 16).exceeding(grant));
    assertEquals(
        "memory 257m > granted 256m", new Resources(257L << 20, 1000, 64, 1024).exceeding(grant));
    assertEquals(
        "cpus 1.5 > granted 1.0", new Resources(64L << 20, 1500, 64, 1024).exceeding(grant));
    assertEquals("pids 65 > granted 64", new Resources(64L << 20, 500, 65, 1024).exceeding(grant));
    assertEquals(
        "files 2048 > granted 1024", new Resources(64L << 20, 500, 6, 2048).exceeding(grant));
  }

  @Test
  void shouldParseSizesAndCpus() {
    assertEquals(256L << 20, Resources.parseSize("256m"));
    assertEquals(1L << 30, Resources.parseSize("1G"));
    assertEquals(65536L << 10, Resources.parseSize("65536k"));
    assertEquals(1048576, Resources.parseSize("1048576"));
    assertEquals(500, Resources.parseCpus("0.5"));
    assertThrows(IllegalArgumentException.class, () -> Resources.parseSize("m"));
    assertThrows(IllegalArgumentException.class, () -> Resources.parseCpus("half"));
  }

  private static void assertRefused(Refusal expected, ThrowingOpen open) {
    Bundle.BundleException e = assertThrows(Bundle.BundleException.class, open::run);
    assertEquals(expected, e.refusal(), e.getMessage());
  }

  @FunctionalInterface
  private interface ThrowingOpen {
    void run() throws Exception;
  }
}
