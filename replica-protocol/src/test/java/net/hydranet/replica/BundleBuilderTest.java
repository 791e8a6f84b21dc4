package net.hydranet.replica;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;

class BundleBuilderTest {
  static byte[] application() throws Exception {
    Manifest m = new Manifest();
    m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    m.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "example.Main");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (JarOutputStream jar = new JarOutputStream(out, m)) {
      jar.putNextEntry(new JarEntry("example/hello.txt"));
      jar.write("hello".getBytes(StandardCharsets.UTF_8));
      jar.closeEntry();
    }
    return out.toByteArray();
  }

  @Test
  void aBuiltAndSignedBundleOpensWithWhatItDeclared() throws Exception {
    KeyPair origin = TestKeys.generate();
    Resources asked = new Resources(64L << 20, 500, 64, 256);
    byte[] jar =
        BundleBuilder.build(
            application(),
            new BundleBuilder.Declaration(
                null, "198.18.2.10", List.of("tcp/80"), "--listen 0.0.0.0:80", asked));
    Bundle b = Bundle.open(jar, Bundle.sign(jar, origin.getPrivate()), origin.getPublic());
    assertEquals("example.Main", b.mainClass());
    assertEquals(OriginAddress.parse("198.18.2.10"), b.origin());
    assertEquals(List.of("tcp/80"), b.ports());
    assertEquals(List.of("--listen", "0.0.0.0:80"), b.arguments());
    assertEquals(asked, b.resources());
    assertArrayEquals(jar, b.jar());
  }

  @Test
  void anotherKeysSignatureIsRefusedBeforeTheManifestIsRead() throws Exception {
    KeyPair origin = TestKeys.generate();
    KeyPair stranger = TestKeys.generate();
    byte[] notEvenAJar = "not a jar".getBytes(StandardCharsets.UTF_8);
    Bundle.BundleException e =
        assertThrows(
            Bundle.BundleException.class,
            () ->
                Bundle.open(
                    notEvenAJar,
                    Bundle.sign(notEvenAJar, stranger.getPrivate()),
                    origin.getPublic()));
    assertEquals(Refusal.BAD_SIGNATURE, e.refusal());
  }
}
