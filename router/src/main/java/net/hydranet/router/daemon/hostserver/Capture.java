package net.hydranet.router.daemon.hostserver;

import com.lmax.disruptor.LiteBlockingWaitStrategy;
import java.io.IOException;
import java.util.List;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.io.FrameSource;
import net.hydranet.forwarding.io.live.LivePcapSource;
import net.hydranet.forwarding.io.live.PcapWait;
import net.hydranet.forwarding.pipeline.Pipeline;
import net.hydranet.forwarding.wire.GueHeader;
import net.hydranet.hostserver.HostServerPath;
import net.hydranet.router.daemon.DaemonLoggers;
import net.hydranet.router.error.UserError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host server's capture on its uplink (what is tunnelled to its addresses) and the pipeline
 * that runs the decapsulating path on it.
 */
public final class Capture {
  private static final Logger LOG = LoggerFactory.getLogger(DaemonLoggers.HOST_SERVER);

  private Capture() {}

  /** IPv4 and IPv6 inside IPv4 to --address; with --address6, any IPv6 to it (6in6 or not). */
  public static String filter(String address, String address6) {
    // "udp dst port" matches first fragments only; later fragments of the tunnel's UDP come too.
    String ipv4 =
        "(ip and dst host "
            + address
            + " and (ip proto 4 or ip proto 41 or udp dst port "
            + GueHeader.PORT
            + " or (ip proto 17 and ip[6:2] & 0x1fff != 0)))";
    return "inbound and "
        + (address6 == null ? ipv4 : "(" + ipv4 + " or (ip6 and dst host " + address6 + "))");
  }

  public static LivePcapSource open(String iface, String address, String address6) {
    try {
      return LivePcapSource.open(
          iface, new LivePcapSource.Options().ingress(0).filter(filter(address, address6)));
    } catch (IOException e) {
      throw new UserError(e.getMessage());
    }
  }

  /**
   * @param inlineBurst frames in a row the receive thread runs itself while the forwarding thread
   *     is idle (the redirector's {@code limits.inlineBurst})
   */
  public static Pipeline newPipeline(LivePcapSource source, HostServerPath path, int inlineBurst) {
    Pipeline p =
        new Pipeline(
            1024,
            new FrameSource[] {source},
            path,
            () -> {},
            new Counters(),
            Pipeline.Clock.LIVE,
            new LiteBlockingWaitStrategy(),
            inlineBurst);
    try {
      p.deepIdle(PcapWait.of(List.of(source)), Pipeline.DEEP_IDLE_NANOS);
      path.waker(p::wake);
    } catch (IOException e) {
      LOG.warn("the receive thread will poll even when idle: {}", e.getMessage());
    }
    return p;
  }
}
