package net.hydranet.control.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;

/**
 * Ed25519 keys in the files OpenSSL reads and writes: the private key as PKCS#8 PEM ({@code openssl
 * genpkey -algorithm ed25519}), the public key as SubjectPublicKeyInfo PEM ({@code openssl pkey
 * -pubout}) or, inline in a config file, the same key's base64 (60 characters,
 * "MCowBQYDK2VwAyEA…"). The JDK's own Ed25519 (JEP 339) does the cryptography, so there is no
 * dependency to audit.
 */
public final class Keys {
  private static final String ALGORITHM = "Ed25519";

  private Keys() {}

  public static KeyPair generate() {
    try {
      return KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK has no Ed25519", e);
    }
  }

  /** Writes {@code stem.key} (mode 0600) and {@code stem.pub}. */
  public static void write(KeyPair pair, Path stem) throws IOException {
    Path key = stem.resolveSibling(stem.getFileName() + ".key");
    Path pub = stem.resolveSibling(stem.getFileName() + ".pub");
    Files.deleteIfExists(key);
    Files.createFile(
        key, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(key, pem("PRIVATE KEY", pair.getPrivate().getEncoded()));
    Files.writeString(pub, pem("PUBLIC KEY", pair.getPublic().getEncoded()));
  }

  public static String publicBase64(PublicKey key) {
    return Base64.getEncoder().encodeToString(key.getEncoded());
  }

  public static PrivateKey readPrivate(Path file) throws IOException {
    byte[] der = der(Files.readString(file, StandardCharsets.US_ASCII), "PRIVATE KEY", file);
    try {
      return KeyFactory.getInstance(ALGORITHM).generatePrivate(new PKCS8EncodedKeySpec(der));
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new IOException(file + ": not an Ed25519 private key (" + e.getMessage() + ")");
    }
  }

  /** A public key from a PEM file's path, or from its base64 written inline. */
  public static PublicKey readPublic(String pathOrBase64) throws IOException {
    String text = pathOrBase64.strip();
    String source = "inline key";
    if (text.endsWith(".pub") || text.endsWith(".pem") || Files.isRegularFile(Path.of(text))) {
      Path file = Path.of(text);
      source = file.toString();
      text = Files.readString(file, StandardCharsets.US_ASCII);
    }
    byte[] der =
        text.contains("-----BEGIN")
            ? der(text, "PUBLIC KEY", Path.of(source))
            : decode(text, source);
    try {
      return KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(der));
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new IOException(source + ": not an Ed25519 public key (" + e.getMessage() + ")");
    }
  }

  private static byte[] der(String pem, String label, Path file) throws IOException {
    String begin = "-----BEGIN " + label + "-----";
    String end = "-----END " + label + "-----";
    int b = pem.indexOf(begin);
    int e = pem.indexOf(end);
    if (b < 0 || e < b) {
      throw new IOException(file + ": no '" + begin + "' block");
    }
    return decode(pem.substring(b + begin.length(), e), file.toString());
  }

  private static byte[] decode(String base64, String source) throws IOException {
    try {
      return Base64.getMimeDecoder().decode(base64.strip());
    } catch (IllegalArgumentException e) {
      throw new IOException(source + ": bad base64 (" + e.getMessage() + ")");
    }
  }

  private static String pem(String label, byte[] der) {
    return "-----BEGIN "
        + label
        + "-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END "
        + label
        + "-----\n";
  }
}
