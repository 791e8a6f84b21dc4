package net.hydranet.forwarding.element;

/**
 * The output ports elements return instead of throwing or allocating: what happens to a frame next.
 * A drop is a verdict too, and its reason is counted by the element that chose it.
 */
public final class Verdict {
  /** Go on to the next element. */
  public static final int CONTINUE = 0;

  /** The frame was consumed (sent, queued or answered); stop. */
  public static final int DONE = 1;

  /** The frame was dropped and counted; stop. */
  public static final int DROP = 2;

  private Verdict() {}
}
