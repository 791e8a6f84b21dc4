package net.hydranet.router.daemon.redirector;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import net.hydranet.forwarding.ForwardingPlane;
import net.hydranet.router.daemon.DaemonLoggers;
import net.hydranet.router.liveness.LivenessLink;
import net.hydranet.router.systemd.SdNotify;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SIGTERM's orderly stop: the shutdown hook withdraws the liveness link (and keeps forwarding for
 * its grace), drains the ring, lets the main thread go on and then waits for its clean-up.
 */
public final class Shutdown {
  private static final Logger LOG = LoggerFactory.getLogger(DaemonLoggers.REDIRECTOR);

  /**
   * Counted down when {@code RedirectorCommand.call} has released everything. On SIGTERM the JVM
   * halts as soon as its shutdown hooks end, so the hook waits for this: without it the halt raced
   * the clean-up here and left, for one, the transit drop installed (seen in paper-fig3, whose next
   * point, the kernel's own forwarding, then saw every frame dropped).
   */
  private final CountDownLatch cleanedUp = new CountDownLatch(1);

  private final CountDownLatch stopped = new CountDownLatch(1);
  private final Liveness liveness;

  public Shutdown(Liveness liveness) {
    this.liveness = liveness;
  }

  /** Installs the hook that stops {@code plane}. */
  public void install(ForwardingPlane plane) {
    Thread hook =
        new Thread(
            () -> {
              if (liveness.withdraw()) {
                // The upstream moves the flows away while this redirector still forwards.
                try {
                  Thread.sleep(LivenessLink.WITHDRAW_GRACE_MILLIS);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              }
              LOG.info("stopping: draining the ring");
              SdNotify.stopping("draining the ring");
              plane.close();
              stopped.countDown();
              try {
                if (!cleanedUp.await(10, TimeUnit.SECONDS)) {
                  LOG.warn("stopping: clean-up not done after 10 s, exiting anyway");
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "hydranet-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /** Waits until the hook has drained the ring. */
  public void awaitStopped() throws InterruptedException {
    stopped.await();
  }

  /** Says the main thread has released everything: the hook may let the JVM halt. */
  public void released() {
    cleanedUp.countDown();
  }
}
