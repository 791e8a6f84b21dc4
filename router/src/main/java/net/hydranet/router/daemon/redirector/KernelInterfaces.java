package net.hydranet.router.daemon.redirector;

import java.io.IOException;
import net.hydranet.forwarding.io.live.KernelChecks;
import net.hydranet.router.config.ConfigLoader;

/** What a config leaves out of an interface, read from the kernel (sysfs): its MAC and its MTU. */
final class KernelInterfaces {
  private KernelInterfaces() {}

  /** What a config leaves out of an interface, read from the kernel: its MAC and its MTU. */
  static final ConfigLoader.MacResolver KERNEL =
      new ConfigLoader.MacResolver() {
        @Override
        public long mac(String name) {
          return osMac(name);
        }

        @Override
        public int mtu(String name) {
          return osMtu(name);
        }
      };

  /**
   * Reads an interface's MTU from sysfs, for configs that leave it out; 1500 for an interface this
   * host lacks (a config checked elsewhere; the kernel checks refuse to start on it).
   */
  static int osMtu(String name) {
    if (!KernelChecks.interfaceExists(name)) {
      return ConfigLoader.DEFAULT_MTU;
    }
    try {
      return KernelChecks.mtu(name);
    } catch (IOException | NumberFormatException e) {
      throw new IllegalArgumentException(
          "cannot read the MTU of '" + name + "': " + e.getMessage());
    }
  }

  /** Reads an interface's MAC from sysfs, for configs that leave MACs out. */
  static long osMac(String name) {
    if (!KernelChecks.interfaceExists(name)) {
      throw new IllegalArgumentException("no interface '" + name + "' on this host");
    }
    try {
      byte[] mac = KernelChecks.mac(name);
      long value = 0;
      for (byte b : mac) {
        value = (value << 8) | (b & 0xFF);
      }
      return value;
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot read the MAC of '" + name + "': " + e.getMessage());
    }
  }
}
