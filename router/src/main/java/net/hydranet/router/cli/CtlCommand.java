package net.hydranet.router.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import net.hydranet.control.ctl.CtlServer;
import net.hydranet.router.error.UserError;
import picocli.CommandLine;
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
      "  all       table, peers, counters and flows",
      "A host server (--ctl-socket …/hostserver.ctl) answers:",
      "  status    virtual hosts, ports and the data path's counters",
      "  replicas  its replicas: state, memory, cpu, pids, oom kills; counters",
      "  announced what it announces to which redirectors; control-plane counters",
      "HydraWeb's replica manager (--ctl-socket …/manager.ctl) answers:",
      "  status    replicas, their host server, state, pushes acknowledged, hits and misses",
      "  hits      hits per object per replica, as the replicas reported them",
      "  install [HOST-SERVER]    install a replica now (default: the first host server)",
      "  remove NAME              drain and remove a replica",
      "",
      "Every view answers one JSON object with --json. The exit code is 0 when the daemon",
      "answered, 1 when it reports a failure (FAILED, REFUSED, error), 2 for an unknown",
      "request (the known ones are listed) or when no daemon answers at the socket.",
      "",
      "Example:",
      "  hydranet ctl table",
      "  hydranet ctl --json flows | jq .flows.live",
      "  hydranet ctl --ctl-socket /run/hydranet/hostserver/ctl replicas"
    })
public final class CtlCommand implements Callable<Integer> {
  @Option(
      names = "--ctl-socket",
      description = "the daemon's socket, as its own --ctl-socket (/run/hydranet/redirector/ctl)")
  Path socket = Path.of("/run/hydranet/redirector/ctl");

  @Option(names = "--socket", hidden = true, description = "deprecated: --ctl-socket")
  void deprecatedSocket(Path path) {
    System.err.println("hydranet: ctl --socket is deprecated, use --ctl-socket");
    socket = path;
  }

  @Option(names = "--json", description = "ask for the view as one JSON object")
  boolean json;

  @Parameters(arity = "0..*", paramLabel = "WHAT", description = "the request and its arguments")
  java.util.List<String> what = java.util.List.of();

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /**
   * Prints the daemon's answer and exits 0; 1 when the daemon reports a failure ("FAILED",
   * "REFUSED", "error:", or a JSON {@code error}), 2 for an unknown request (the answer lists the
   * known ones), a usage error, or no daemon at the socket.
   */
  @Override
  public Integer call() {
    if (!Files.exists(socket)) {
      throw new UserError(
          "no daemon socket at " + socket + " (is the daemon running? --ctl-socket?)");
    }
    String request = what.isEmpty() ? "all" : String.join(" ", what);
    String answer;
    try {
      answer = CtlServer.request(socket, json ? request + " --json" : request);
    } catch (IOException e) {
      throw new UserError(socket + ": " + e.getMessage());
    }
    if (answer.isEmpty()) {
      throw new UserError(socket + ": the daemon closed the connection without an answer");
    }
    int code = CtlRequest.exitCode(answer);
    (code == 0 ? spec.commandLine().getOut() : spec.commandLine().getErr()).print(answer);
    (code == 0 ? spec.commandLine().getOut() : spec.commandLine().getErr()).flush();
    return code;
  }
}
