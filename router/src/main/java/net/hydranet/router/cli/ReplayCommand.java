package net.hydranet.router.cli;

import com.lmax.disruptor.BlockingWaitStrategy;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import net.hydranet.forwarding.ForwardingPlane;
import net.hydranet.forwarding.config.RouterInterface;
import net.hydranet.forwarding.io.FrameSource;
import net.hydranet.forwarding.io.TxPort;
import net.hydranet.forwarding.io.file.PcapFileSource;
import net.hydranet.forwarding.io.file.PcapFileTxPort;
import net.hydranet.forwarding.pipeline.FrameSlot;
import net.hydranet.forwarding.pipeline.Pipeline;
import net.hydranet.router.config.ConfigException;
import net.hydranet.router.config.ConfigLoader;
import net.hydranet.router.config.RedirectorConfig;
import net.hydranet.router.error.UserError;
import net.hydranet.router.status.Summary;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code hydranet replay}: the redirector's pipeline with capture files in place of NICs. */
@Command(
    name = "replay",
    mixinStandardHelpOptions = true,
    description = {
      "Runs the redirector's pipeline over a capture: frames from --input arrive on --ingress,",
      "and every frame the router sends is written to one pcap file per egress interface,",
      "OUTPUT-STEM.<interface>.pcap. Static neighbours in the config make the result deterministic.",
      "",
      "Example:",
      "  hydranet replay --config config/replay-sample.yaml --input sample.pcap --output out.pcap"
    })
public final class ReplayCommand implements Callable<Integer> {
  @Option(names = "--config", required = true, description = "redirector YAML configuration")
  Path config;

  @Option(names = "--input", required = true, description = "capture to replay (pcap or pcapng)")
  Path input;

  @Option(
      names = "--output",
      required = true,
      description = "output stem: writes STEM.<interface>.pcap (a trailing .pcap is dropped)")
  Path output;

  @Option(
      names = "--ingress",
      description = "interface the input frames arrive on (default: the first in the config)")
  String ingress;

  @Override
  public Integer call() throws Exception {
    PrintStream out = System.out;
    RedirectorConfig cfg = load();
    List<RouterInterface> interfaces = cfg.context().interfaces();
    RouterInterface in = ingressInterface(cfg);
    if (!Files.isReadable(input)) {
      throw new UserError(input + ": no such file or not readable");
    }
    List<Path> outputs = new ArrayList<>();
    TxPort[] ports = new TxPort[interfaces.size()];
    PcapFileSource source = null;
    try {
      for (RouterInterface i : interfaces) {
        Path file = outputFile(output, i.name());
        outputs.add(file);
        ports[i.index()] = new PcapFileTxPort(file);
      }
      try {
        source = new PcapFileSource(input, in.index());
      } catch (RuntimeException e) {
        throw new UserError(e.getMessage());
      }
      replay(cfg, source, ports, out);
    } finally {
      if (source != null) {
        source.close();
      }
      for (TxPort p : ports) {
        if (p != null) {
          p.close();
        }
      }
    }
    for (Path p : outputs) {
      out.println("wrote " + p);
    }
    return 0;
  }

  private RedirectorConfig load() {
    try {
      return ConfigLoader.load(config);
    } catch (ConfigException e) {
      throw new UserError(e.getMessage());
    }
  }

  /** The interface the capture came in on: {@code --ingress}, or the first. */
  private RouterInterface ingressInterface(RedirectorConfig cfg) {
    List<RouterInterface> interfaces = cfg.context().interfaces();
    RouterInterface in =
        ingress == null ? interfaces.get(0) : cfg.context().interfaceNamed(ingress);
    if (in == null) {
      throw new UserError("--ingress: no interface called '" + ingress + "' in " + config);
    }
    return in;
  }

  /**
   * Runs the capture through a plane configured as {@code cfg}, its ports writing {@code ports},
   * and prints the summary and what the source could not hand on.
   */
  private static void replay(
      RedirectorConfig cfg, PcapFileSource source, TxPort[] ports, PrintStream out)
      throws InterruptedException {
    // A capture is one stream: replay runs one pipeline whatever limits.pipelines says, so
    // the output keeps the capture's order.
    ForwardingPlane plane = new ForwardingPlane(cfg.context().pipelines(1), ports);
    cfg.applyTo(plane);
    plane.start(new FrameSource[] {source}, Pipeline.Clock.FRAME, new BlockingWaitStrategy());
    boolean ended = plane.pipeline().awaitEnd(600_000);
    // Stops the threads; the tables and counters stay readable for the summary.
    plane.close();
    if (!ended) {
      throw new UserError("replay did not finish within 10 minutes");
    }
    Summary.print(out, plane);
    // Records the source could not hand on never reach rx_frames: say how many, so the
    // capture's count adds up (records = rx_frames + skipped).
    out.printf(
        "input: records=%d = rx_frames + skipped %d (longer than the %d-byte slot);"
            + " %d cut short by the capture's snap length%n",
        source.records(),
        source.oversizeSkipped(),
        FrameSlot.frameCapacity(),
        source.truncatedRecords());
    if (plane.pipeline().receiveError() != null) {
      throw new UserError(plane.pipeline().receiveError().getMessage());
    }
  }

  /** STEM.<interface>.pcap, where STEM is {@code output} less a trailing ".pcap". */
  public static Path outputFile(Path output, String interfaceName) {
    String name = output.getFileName().toString();
    String stem = name.endsWith(".pcap") ? name.substring(0, name.length() - 5) : name;
    return output.resolveSibling(stem + "." + interfaceName + ".pcap");
  }
}
