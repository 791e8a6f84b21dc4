package net.hydranet.replica;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

/**
 * Makes a bundle out of an application jar: the same entries, with the manifest attributes of
 * REPLICAS.md ("Bundles") set from what the origin asks for. The result is signed separately
 * ({@link Bundle#sign}).
 */
public final class BundleBuilder {
  private BundleBuilder() {}

  /** What a bundle declares. */
  public record Declaration(
      String mainClass, String origin, List<String> ports, String arguments, Resources resources) {}

  /** {@code application} re-written with {@code d}'s attributes in its manifest. */
  public static byte[] build(byte[] application, Declaration d) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(application.length + 1024);
    try (JarInputStream in = new JarInputStream(new ByteArrayInputStream(application))) {
      Manifest m = in.getManifest() == null ? new Manifest() : new Manifest(in.getManifest());
      Attributes a = m.getMainAttributes();
      a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
      String main = d.mainClass() != null ? d.mainClass() : a.getValue(Attributes.Name.MAIN_CLASS);
      if (main == null) {
        throw new IOException("the application jar has no Main-Class and none was given");
      }
      a.put(Attributes.Name.MAIN_CLASS, main);
      a.putValue("HydraNet-Origin", d.origin());
      a.putValue("HydraNet-Ports", String.join(" ", d.ports()));
      a.putValue("HydraNet-Arguments", d.arguments() == null ? "" : d.arguments());
      Resources r = d.resources();
      a.putValue("HydraNet-Memory", Long.toString(r.memoryBytes()));
      a.putValue("HydraNet-Cpus", Double.toString(r.milliCpus() / 1000.0));
      a.putValue("HydraNet-Pids", Integer.toString(r.pids()));
      a.putValue("HydraNet-Files", Integer.toString(r.files()));
      try (JarOutputStream jar = new JarOutputStream(out, m)) {
        byte[] buf = new byte[65536];
        for (JarEntry e = in.getNextJarEntry(); e != null; e = in.getNextJarEntry()) {
          jar.putNextEntry(new JarEntry(e.getName()));
          for (int n = in.read(buf); n > 0; n = in.read(buf)) {
            jar.write(buf, 0, n);
          }
          jar.closeEntry();
        }
      }
    }
    return out.toByteArray();
  }
}
