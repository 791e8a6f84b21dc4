package net.hydranet.harness.replica;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/**
 * A hostile replica for the confinement tests: it listens on the port its bundle declares, then
 * allocates native memory (outside the JVM's heap limits, where only the kernel's memory cgroup can
 * stop it) and touches every page, 16 MiB at a time, without end. Arguments: ADDRESS PORT.
 */
public final class MemoryHog {
  private MemoryHog() {}

  public static void main(String[] args) throws Exception {
    ServerSocket listening = new ServerSocket();
    listening.bind(new InetSocketAddress(args[0], Integer.parseInt(args[1])));
    System.out.println("memory hog listening on " + listening.getLocalSocketAddress());
    Thread.sleep(1000);
    // sun.misc.Unsafe by reflection: the compiler would warn of a proprietary API otherwise.
    Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
    Field f = unsafeClass.getDeclaredField("theUnsafe");
    f.setAccessible(true);
    Object unsafe = f.get(null);
    Method allocate = unsafeClass.getMethod("allocateMemory", long.class);
    Method set = unsafeClass.getMethod("setMemory", long.class, long.class, byte.class);
    long chunk = 16L << 20;
    long total = 0;
    for (int i = 0; i < 1 << 16; i++) {
      long address = (long) allocate.invoke(unsafe, chunk);
      set.invoke(unsafe, address, chunk, (byte) 1);
      total += chunk;
      System.out.println("allocated and touched " + (total >> 20) + " MiB");
    }
    listening.close();
  }
}
