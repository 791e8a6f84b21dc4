package net.hydranet.forwarding.element;

import org.agrona.MutableDirectBuffer;

/**
 * One step of the per-packet path (Click's element): it reads and may rewrite the frame in the
 * slot, reads and writes the frame's {@link PacketContext}, counts its own drops, and returns an
 * output port — a small int each element names — instead of throwing or allocating. The path calls
 * each element through its concrete class, so the call is bound statically and inlined.
 *
 * <p>Beside this form an element may offer one that takes the values its caller already holds as
 * arguments (the network header's offset, the route's interface, next hop and MTU): C2 keeps an
 * access to the frame in order with every field access, so a context field read after the frame was
 * touched is loaded again, where an argument stays in a register (ARCHITECTURE.md, "One packet
 * through the redirector").
 */
public interface Element {
  /**
   * @return the output port the frame leaves by ({@link Verdict} or the element's own constants)
   */
  int process(MutableDirectBuffer buffer, PacketContext packet);
}
