package net.hydranet.router.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import net.hydranet.control.ctl.CtlServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hydranet ctl}: asks a running redirector or host server what it knows. */
@Command(
    name = "ctl",
    mixinStandardHelpOptions = true,
    description = {
      "Shows a running daemon's state over its local socket (root only, never the network):",
      "  table     the redirector table: each service's host servers, their distance, where",
      "            each entry came from (announced directly, via a peer redirector, static)",
      "  peers     host servers and peer redirectors heard, with their hold times",
      "  counters  control-plane counters (refused messages by reason, failures, ...)",
      "  flows     live flows in the connection table, per target (origin or host server)",
      "  status    the forwarding plane's table and counters",
      "  replicas  a host server's replicas: state, memory, cpu, pids, oom kills; counters",
      "  all       table, peers, counters and flows",
      "HydraWeb's replica manager (--socket …/manager.ctl) answers:",
      "  status    replicas, their host server, state, pushes acknowledged, hits and misses",
      "  hits      hits per object per replica, as the replicas reported them",
      "  install [HOST-SERVER]    install a replica now (default: the first host server)",
      "  remove NAME              drain and remove a replica",
      "",
      "Example:",
      "  hydranet ctl table",
      "  hydranet ctl --socket /run/hydranet/hostserver.ctl"
    })
public final class CtlCommand implements Callable<Integer> {
  @Option(
      names = "--socket",
      defaultValue = "/run/hydranet/redirector.ctl",
      description = "the daemon's socket (${DEFAULT-VALUE})")
  Path socket;

  @Parameters(arity = "0..*", paramLabel = "WHAT", description = "the request and its arguments")
  java.util.List<String> what = java.util.List.of();

  @Override
  public Integer call() {
    if (!Files.exists(socket)) {
      throw new UserError("no daemon socket at " + socket + " (is the daemon running? --socket?)");
    }
    try {
      System.out.print(CtlServer.request(socket, what.isEmpty() ? "all" : String.join(" ", what)));
    } catch (IOException e) {
      throw new UserError(socket + ": " + e.getMessage());
    }
    return 0;
  }
}
