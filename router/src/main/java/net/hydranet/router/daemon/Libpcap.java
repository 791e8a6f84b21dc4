package net.hydranet.router.daemon;

import java.util.Optional;
import net.hydranet.forwarding.io.live.KernelChecks;
import net.hydranet.router.error.UserError;

/** A daemon's first check: a libpcap that can capture, or a refusal that says what is missing. */
public final class Libpcap {
  private Libpcap() {}

  public static void require() {
    Optional<String> libpcap = KernelChecks.libpcapProblem();
    if (libpcap.isPresent()) {
      throw new UserError(libpcap.get());
    }
  }
}
