package net.hydranet.router.daemon;

import net.hydranet.router.error.UserError;
import net.hydranet.router.metrics.MetricsEndpoint;

/** A daemon's {@code --metrics HOST:PORT}: the endpoint started there, or none for {@code off}. */
public final class MetricsAddress {
  private MetricsAddress() {}

  /**
   * The endpoint on {@code address}, or null for {@code off}; an address it cannot serve runs
   * {@code refused} (what must stop first) and refuses to start.
   */
  public static MetricsEndpoint start(String address, Runnable refused) {
    if (address.equals("off")) {
      return null;
    }
    try {
      return MetricsEndpoint.start(address);
    } catch (IllegalArgumentException e) {
      refused.run();
      throw new UserError(e.getMessage());
    }
  }
}
