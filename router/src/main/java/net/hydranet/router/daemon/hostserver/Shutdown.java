package net.hydranet.router.daemon.hostserver;

import net.hydranet.control.agent.HostServerAgent;
import net.hydranet.forwarding.pipeline.Pipeline;
import net.hydranet.hostserver.replica.ReplicaService;
import net.hydranet.router.systemd.SdNotify;

/** The host server's orderly stop on SIGTERM, as a shutdown hook. */
public final class Shutdown {
  private Shutdown() {}

  /** On SIGTERM: no new replica requests, drain, withdraw and say goodbye, then stop. */
  public static void install(HostServerControl control, Pipeline pipeline, long drainMillis) {
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  SdNotify.stopping("draining");
                  ReplicaService replicas = control.replicas();
                  HostServerAgent agent = control.agent();
                  if (replicas != null) {
                    replicas.close(); // no new requests while leaving
                  }
                  if (agent != null) {
                    // Graceful: weight 0 first, so established connections finish here
                    // while new ones go elsewhere; then withdraw and say goodbye.
                    try {
                      agent.drainAndLeave(drainMillis);
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  }
                  if (replicas != null) {
                    replicas.removeAll(); // the drain above covered their services
                  }
                  if (agent != null) {
                    agent.close();
                  }
                  pipeline.close();
                },
                "hydranet-shutdown"));
  }
}
