package net.hydranet.router.daemon.redirector;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicReference;
import net.hydranet.forwarding.ForwardingPlane;
import net.hydranet.router.error.UserError;
import net.hydranet.router.liveness.LivenessLink;

/**
 * {@code --liveness-link}: the TUN interface held while every pipeline answers, opened once the
 * data path forwards and withdrawn first at the stop; and the every-pipeline ping it shares with
 * the systemd watchdog.
 */
public final class Liveness {
  private final String livenessLink;
  private final AtomicReference<LivenessLink> liveness = new AtomicReference<>();

  public Liveness(String livenessLink) {
    this.livenessLink = livenessLink;
  }

  /** {@code --liveness-link}: created once the data path forwards, so it is never early. */
  public void open(ForwardingPlane plane) {
    if (livenessLink == null) {
      return;
    }
    try {
      liveness.set(
          LivenessLink.open(livenessLink, r -> everyPipeline(plane, r), plane::receiveError));
    } catch (IOException | IllegalArgumentException e) {
      plane.close();
      throw new UserError("--liveness-link " + livenessLink + ": " + e.getMessage());
    }
  }

  /** Removes the liveness link if it is held; true if it was. */
  public boolean withdraw() {
    LivenessLink l = liveness.getAndSet(null);
    if (l == null) {
      return false;
    }
    l.close();
    return true;
  }

  /**
   * Runs {@code r} once every pipeline's forwarding thread has answered: the watchdog's ping, so a
   * stuck pipeline stops it whichever pipeline it is.
   */
  public static void everyPipeline(ForwardingPlane plane, Runnable r) {
    java.util.concurrent.atomic.AtomicInteger left =
        new java.util.concurrent.atomic.AtomicInteger(plane.pipelines());
    for (int i = 0; i < plane.pipelines(); i++) {
      plane.snapshot(
          i,
          p -> {
            if (left.decrementAndGet() == 0) {
              r.run();
            }
          });
    }
  }
}
