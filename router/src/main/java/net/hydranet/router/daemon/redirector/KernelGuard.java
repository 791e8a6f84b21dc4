package net.hydranet.router.daemon.redirector;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import net.hydranet.forwarding.config.RouterInterface;
import net.hydranet.forwarding.io.live.IngressDrop;
import net.hydranet.forwarding.io.live.KernelChecks;
import net.hydranet.forwarding.io.live.TransitDrop;
import net.hydranet.router.config.RedirectorConfig;
import net.hydranet.router.daemon.DaemonLoggers;
import net.hydranet.router.error.UserError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the box's kernel from forwarding beside the redirector: refuses to start on ip_forward,
 * offloads or an MTU that is wrong ({@code --skip-kernel-checks} only warns), and installs the
 * transit drop of {@code dropTransit} until the stop removes it.
 */
public final class KernelGuard {
  private static final Logger LOG = LoggerFactory.getLogger(DaemonLoggers.REDIRECTOR);

  private final boolean skipKernelChecks;
  private IngressDrop transitDrop;

  public KernelGuard(boolean skipKernelChecks) {
    this.skipKernelChecks = skipKernelChecks;
  }

  static List<String> interfaceNames(RedirectorConfig cfg) {
    List<String> names = new ArrayList<>();
    for (RouterInterface i : cfg.context().interfaces()) {
      names.add(i.name());
    }
    return names;
  }

  /**
   * ip_forward off, offloads off and no configured MTU above its link's on every interface, or a
   * refusal naming what is wrong.
   */
  public void check(RedirectorConfig cfg) {
    List<String> problems = new ArrayList<>(KernelChecks.check(interfaceNames(cfg)));
    for (RouterInterface i : cfg.context().interfaces()) {
      if (KernelChecks.interfaceExists(i.name())) {
        KernelChecks.mtuProblem(i.name(), i.mtu()).ifPresent(problems::add);
      }
    }
    if (!problems.isEmpty()) {
      if (!skipKernelChecks) {
        throw new UserError(String.join("; ", problems));
      }
      problems.forEach(p -> LOG.warn("kernel check ignored: {}", p));
    }
  }

  public void installTransitDrop(RedirectorConfig cfg) {
    if (!cfg.context().dropTransit()) {
      return;
    }
    List<String> names = interfaceNames(cfg);
    try {
      transitDrop = TransitDrop.install(List.of("nft"), names);
      LOG.info(
          "the kernel drops transit frames at ingress on {} after capture (nft table netdev {})",
          names,
          TransitDrop.TABLE);
    } catch (IOException e) {
      LOG.warn(
          "transit frames not dropped at ingress, the kernel runs IP input on each: {}",
          e.getMessage());
    }
  }

  /** Removes the transit drop if it was installed; a failure is logged. */
  public void removeTransitDrop() {
    try {
      if (transitDrop != null) {
        transitDrop.close();
      }
    } catch (IOException e) {
      LOG.warn("cannot remove nft table netdev {}: {}", TransitDrop.TABLE, e.getMessage());
    }
  }
}
