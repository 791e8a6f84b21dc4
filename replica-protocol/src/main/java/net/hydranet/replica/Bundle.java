package net.hydranet.replica;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarInputStream;
import java.util.jar.Manifest;
import java.util.regex.Pattern;

/**
 * A replica bundle: a jar whose manifest says what to run and what it asks for, and the origin's
 * Ed25519 signature over the jar's SHA-256 (REPLICAS.md, "Bundles"). {@link #open} verifies the
 * signature before it reads a byte of the jar: nothing of an unsigned bundle is ever parsed.
 *
 * <p>Manifest attributes: {@code Main-Class}, {@code HydraNet-Origin} (an IPv4 or a global unicast
 * IPv6 address: {@link OriginAddress#parse}), {@code HydraNet-Ports} ("tcp/80 udp/53"), {@code
 * HydraNet-Arguments} (whitespace-separated), {@code HydraNet-Memory} ("256m"), {@code
 * HydraNet-Cpus} ("0.5"), {@code HydraNet-Pids}, {@code HydraNet-Files}.
 */
public record Bundle(
    String mainClass,
    InetAddress origin,
    List<String> ports,
    List<String> arguments,
    Resources resources,
    byte[] jar) {
  private static final byte[] CONTEXT = "HNBUNDLE1".getBytes(StandardCharsets.US_ASCII);
  private static final Pattern PORT = Pattern.compile("(tcp|udp)/([0-9]{1,5})");
  private static final Pattern CLASS = Pattern.compile("[A-Za-z_$][A-Za-z0-9_$.]*");

  /** A bundle that cannot be used, with the refusal it earns. */
  public static final class BundleException extends Exception {
    private static final long serialVersionUID = 1L;
    private final Refusal refusal;
    private final String field;

    public BundleException(Refusal refusal, String message) {
      this(refusal, null, message);
    }

    /** {@code field}: the manifest attribute (or "signature", "jar") at fault, or null. */
    public BundleException(Refusal refusal, String field, String message) {
      super(message);
      this.refusal = refusal;
      this.field = field;
    }

    public Refusal refusal() {
      return refusal;
    }

    /** What was at fault (a manifest attribute, "signature", "jar"), or null if not known. */
    public String field() {
      return field;
    }
  }

  /** The origin's signature over {@code jar}: 64 bytes. */
  public static byte[] sign(byte[] jar, PrivateKey originKey) {
    try {
      Signature s = Signature.getInstance("Ed25519");
      s.initSign(originKey);
      s.update(CONTEXT);
      s.update(sha256(jar));
      return s.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot sign with this key: " + e.getMessage(), e);
    }
  }

  /**
   * A detached signature file: base64 text (what {@code hydranet bundle sign} writes) or the raw 64
   * bytes.
   */
  public static byte[] readSignature(java.nio.file.Path file) throws IOException {
    byte[] b = java.nio.file.Files.readAllBytes(file);
    if (b.length == ReplicaSession.SIGNATURE) {
      return b;
    }
    try {
      byte[] d =
          java.util.Base64.getMimeDecoder()
              .decode(new String(b, StandardCharsets.US_ASCII).strip());
      if (d.length == ReplicaSession.SIGNATURE) {
        return d;
      }
      throw new IOException(file + ": a signature is 64 bytes, this decodes to " + d.length);
    } catch (IllegalArgumentException e) {
      throw new IOException(file + ": neither 64 raw bytes nor base64 (" + e.getMessage() + ")");
    }
  }

  /** Verifies {@code signature} with {@code originKey}, then reads the manifest. */
  public static Bundle open(byte[] jar, byte[] signature, PublicKey originKey)
      throws BundleException {
    boolean ok = signature != null && signature.length == ReplicaSession.SIGNATURE;
    try {
      Signature s = Signature.getInstance("Ed25519");
      s.initVerify(originKey);
      s.update(CONTEXT);
      s.update(sha256(jar));
      ok = ok && s.verify(signature);
    } catch (GeneralSecurityException e) {
      ok = false;
    }
    if (!ok) {
      throw new BundleException(Refusal.BAD_SIGNATURE, "signature", Refusal.BAD_SIGNATURE.meaning);
    }
    Manifest manifest;
    try (JarInputStream in = new JarInputStream(new ByteArrayInputStream(jar))) {
      manifest = in.getManifest();
    } catch (IOException | RuntimeException e) {
      throw new BundleException(Refusal.BAD_MANIFEST, "jar", "not a jar: " + e.getMessage());
    }
    if (manifest == null) {
      throw new BundleException(Refusal.BAD_MANIFEST, "manifest", "jar has no manifest");
    }
    Attributes a = manifest.getMainAttributes();
    String field = "Main-Class"; // the attribute being read, for the refusal
    try {
      String main = required(a, field);
      if (!CLASS.matcher(main).matches()) {
        throw new IllegalArgumentException("Main-Class is not a class name: " + main);
      }
      field = "HydraNet-Origin";
      InetAddress origin = OriginAddress.parse(required(a, field));
      field = "HydraNet-Ports";
      List<String> ports = new ArrayList<>();
      for (String p : required(a, field).trim().split("\\s+")) {
        var m = PORT.matcher(p);
        if (!m.matches()
            || Integer.parseInt(m.group(2)) < 1
            || Integer.parseInt(m.group(2)) > 65535) {
          throw new IllegalArgumentException("HydraNet-Ports: not protocol/port: " + p);
        }
        ports.add(p);
      }
      String args = a.getValue("HydraNet-Arguments");
      List<String> arguments =
          args == null || args.isBlank() ? List.of() : List.of(args.trim().split("\\s+"));
      field = "HydraNet-Memory";
      long memory = Resources.parseSize(required(a, field));
      field = "HydraNet-Cpus";
      int cpus = Resources.parseCpus(required(a, field));
      field = "HydraNet-Pids";
      int pids = Integer.parseInt(required(a, field).trim());
      field = "HydraNet-Files";
      int files = Integer.parseInt(required(a, field).trim());
      field = null; // out of range: Resources names the limit first in its message
      Resources r = new Resources(memory, cpus, pids, files);
      return new Bundle(main, origin, List.copyOf(ports), arguments, r, jar);
    } catch (IllegalArgumentException e) {
      throw new BundleException(
          Refusal.BAD_MANIFEST,
          field != null ? field : limitAttribute(e.getMessage()),
          e.getMessage());
    }
  }

  /** "cpus outside 0.01..64: 99.0" → HydraNet-Cpus: the attribute of the limit named first. */
  private static String limitAttribute(String message) {
    String word = message == null ? "" : message.split(" ", 2)[0];
    return switch (word) {
      case "memory" -> "HydraNet-Memory";
      case "cpus" -> "HydraNet-Cpus";
      case "pids" -> "HydraNet-Pids";
      case "files" -> "HydraNet-Files";
      default -> null;
    };
  }

  private static String required(Attributes a, String name) {
    String v = a.getValue(name);
    if (v == null || v.isBlank()) {
      throw new IllegalArgumentException("manifest has no " + name);
    }
    return v.trim();
  }

  /** Dotted quad to int, strictly. */
  public static int parseAddress(String s) {
    String[] p = s.trim().split("\\.", -1);
    if (p.length != 4) {
      throw new IllegalArgumentException("not an IPv4 address: " + s);
    }
    int v = 0;
    for (String q : p) {
      if (q.isEmpty() || q.length() > 3 || !q.chars().allMatch(Character::isDigit)) {
        throw new IllegalArgumentException("not an IPv4 address: " + s);
      }
      int b = Integer.parseInt(q);
      if (b > 255) {
        throw new IllegalArgumentException("not an IPv4 address: " + s);
      }
      v = (v << 8) | b;
    }
    return v;
  }

  static byte[] sha256(byte[] b) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(b);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Bundle b && Arrays.equals(jar, b.jar);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(jar);
  }

  @Override
  public String toString() {
    return "bundle "
        + mainClass
        + " for "
        + OriginAddress.text(origin)
        + " "
        + ports
        + " ("
        + resources
        + ")";
  }
}
