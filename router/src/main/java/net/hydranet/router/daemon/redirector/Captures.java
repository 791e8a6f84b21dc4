package net.hydranet.router.daemon.redirector;

import com.lmax.disruptor.LiteBlockingWaitStrategy;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import net.hydranet.forwarding.ForwardingPlane;
import net.hydranet.forwarding.config.PipelineFeed;
import net.hydranet.forwarding.config.RouterInterface;
import net.hydranet.forwarding.io.FrameSource;
import net.hydranet.forwarding.io.FrameWait;
import net.hydranet.forwarding.io.TxPort;
import net.hydranet.forwarding.io.live.LivePcapSource;
import net.hydranet.forwarding.io.live.PcapWait;
import net.hydranet.forwarding.pipeline.Pipeline;
import net.hydranet.router.config.RedirectorConfig;
import net.hydranet.router.daemon.DaemonLoggers;
import net.hydranet.router.error.UserError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The redirector's interfaces and the forwarding plane over them: the captures opened (one per
 * interface and pipeline), the plane built on their transmit rings and filled from the config, then
 * started on their receive side; closed last.
 */
public final class Captures {
  private static final Logger LOG = LoggerFactory.getLogger(DaemonLoggers.REDIRECTOR);

  private final List<LivePcapSource> sources = new ArrayList<>();
  // Each pipeline's captures, one per interface.
  private final List<List<LivePcapSource>> perPipeline = new ArrayList<>();
  private TxPort[][] ports;
  private boolean byInterface;

  /**
   * The captures, as the context's {@link PipelineFeed} says. Fed by flow: one capture per
   * interface and pipeline, with more than one pipeline an interface's captures forming one
   * PACKET_FANOUT group, capture {@code p} feeding pipeline {@code p}; each capture's transmit ring
   * (its own socket) is that pipeline's port on the interface. Fed by interface: one capture per
   * interface, read by pipeline {@code i % n}, whose port there is the capture's own; every other
   * pipeline gets a transmit ring of its own on the interface. Either way no two threads ever share
   * a transmit ring.
   */
  public void open(RedirectorConfig cfg) {
    int n = cfg.context().pipelines();
    byInterface = cfg.context().pipelineFeed() == PipelineFeed.INTERFACE;
    ports = new TxPort[n][cfg.context().interfaces().size()];
    for (int p = 0; p < n; p++) {
      perPipeline.add(new ArrayList<>());
    }
    for (RouterInterface i : cfg.context().interfaces()) {
      LivePcapSource.Options options = new LivePcapSource.Options().ingress(i.index());
      try {
        if (byInterface || n == 1) {
          openOne(i, options, n);
        } else {
          openFanout(i, options, n);
        }
      } catch (IOException e) {
        throw new UserError(e.getMessage());
      }
    }
  }

  /** Interface {@code i} read by one pipeline ({@code i % n}), sent on by all. */
  private void openOne(RouterInterface i, LivePcapSource.Options options, int n)
      throws IOException {
    LivePcapSource capture = LivePcapSource.open(i.name(), options);
    sources.add(capture);
    int reader = i.index() % n;
    perPipeline.get(reader).add(capture);
    for (int p = 0; p < n; p++) {
      ports[p][i.index()] = p == reader ? capture.txPort() : capture.openTxPort();
    }
  }

  /** Interface {@code i}'s fanout group: capture {@code p} read by, and sending for, pipeline p. */
  private void openFanout(RouterInterface i, LivePcapSource.Options options, int n)
      throws IOException {
    LivePcapSource[] captures = LivePcapSource.openFanout(i.name(), options, n);
    for (int p = 0; p < n; p++) {
      sources.add(captures[p]);
      perPipeline.get(p).add(captures[p]);
      ports[p][i.index()] = captures[p].txPort();
    }
  }

  /** The forwarding plane over the open interfaces, filled from the config, not yet started. */
  public ForwardingPlane buildPlane(RedirectorConfig cfg) {
    ForwardingPlane plane = new ForwardingPlane(cfg.context(), ports);
    cfg.applyTo(plane);
    StartupLog.log(cfg);
    return plane;
  }

  /** Starts the pipelines: from here frames are captured and forwarded. */
  public void start(ForwardingPlane plane) {
    int n = perPipeline.size();
    FrameSource[][] receive = new FrameSource[n][];
    FrameWait[] frameWaits = new FrameWait[n];
    for (int p = 0; p < n; p++) {
      receive[p] = perPipeline.get(p).toArray(new FrameSource[0]);
      try {
        frameWaits[p] = PcapWait.of(perPipeline.get(p));
      } catch (IOException e) {
        LOG.warn("the receive thread will poll even when idle: {}", e.getMessage());
      }
    }
    plane.start(receive, Pipeline.Clock.LIVE, LiteBlockingWaitStrategy::new, frameWaits);
    if (n > 1 && byInterface) {
      LOG.info("{} forwarding pipelines, each reading its own interfaces", n);
    } else if (n > 1) {
      LOG.info("{} forwarding pipelines, fed by PACKET_FANOUT (flow hash) on each interface", n);
    }
  }

  /** Every capture, for the per-interface meters. */
  public List<LivePcapSource> sources() {
    return sources;
  }

  /** Closes every capture. */
  public void close() {
    for (LivePcapSource s : sources) {
      s.close();
    }
  }
}
