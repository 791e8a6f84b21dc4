package net.hydranet.forwarding.config;

/**
 * What decides which pipeline a frame meets, with more than one ({@link
 * ForwardingContext#pipelineFeed}).
 *
 * <ul>
 *   <li>{@code FLOW}: each interface's captures form one {@code PACKET_FANOUT} group (flow hash),
 *       so both directions of a flow meet the same pipeline and many flows spread over many
 *       pipelines (a multi-queue NIC's RSS, Katran's per-CPU tables).
 *   <li>{@code INTERFACE}: interface {@code i} (its place in the config) is read by pipeline {@code
 *       i % pipelines} only, and every pipeline sends on every interface through a transmit ring of
 *       its own. One flow's two directions then meet two pipelines, as the C forwarder's thread per
 *       direction does: one TCP stream's data and its ACKs, and the kernel work each {@code
 *       send(2)} does for the next hop, run on two cores. The connection table still sees every
 *       packet of a redirected flow, since only the client's direction is looked up. What ARP and
 *       neighbour discovery tell one pipeline is shared with the others.
 * </ul>
 */
public enum PipelineFeed {
  FLOW,
  INTERFACE;

  /** The config's spelling: {@code flow} or {@code interface}. */
  public static PipelineFeed parse(String text) {
    for (PipelineFeed f : values()) {
      if (f.name().equalsIgnoreCase(text)) {
        return f;
      }
    }
    throw new IllegalArgumentException(
        "pipelineFeed: must be flow or interface, was '" + text + "'");
  }
}
