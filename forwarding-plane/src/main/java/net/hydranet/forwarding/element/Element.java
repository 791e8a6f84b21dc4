package net.hydranet.forwarding.element;

import org.agrona.MutableDirectBuffer;

/**
 * One step of the per-packet path (Click's element): it reads and may rewrite the frame in the
 * slot, reads and writes the frame's {@link PacketContext}, counts its own drops, and returns an
 * output port — a small int each element names — instead of throwing or allocating. The path calls
 * each element through its concrete class, so the call is bound statically and inlined.
 */
public interface Element {
  /**
   * @return the output port the frame leaves by ({@link Verdict} or the element's own constants)
   */
  int process(MutableDirectBuffer buffer, PacketContext packet);
}
