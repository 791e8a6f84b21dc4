package net.hydranet.hostserver.replica;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

/** Builds replica bundles in memory: a manifest and the class files of test fixtures. */
final class TestBundles {
  private TestBundles() {}

  static Map<String, String> manifest(Class<?> main, String origin, String ports, String args) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("Main-Class", main.getName());
    m.put("HydraNet-Origin", origin);
    m.put("HydraNet-Ports", ports);
    m.put("HydraNet-Arguments", args);
    m.put("HydraNet-Memory", "128m");
    m.put("HydraNet-Cpus", "0.5");
    m.put("HydraNet-Pids", "64");
    m.put("HydraNet-Files", "256");
    return m;
  }

  static byte[] jar(Map<String, String> attributes, Class<?>... classes) throws IOException {
    Manifest mf = new Manifest();
    mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    attributes.forEach((k, v) -> mf.getMainAttributes().putValue(k, v));
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    try (JarOutputStream j = new JarOutputStream(b, mf)) {
      for (Class<?> c : classes) {
        String entry = c.getName().replace('.', '/') + ".class";
        j.putNextEntry(new JarEntry(entry));
        try (InputStream in = c.getClassLoader().getResourceAsStream(entry)) {
          in.transferTo(j);
        }
        j.closeEntry();
      }
    }
    return b.toByteArray();
  }
}
