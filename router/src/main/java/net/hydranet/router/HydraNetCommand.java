package net.hydranet.router;

/** Placeholder entry point, replaced by the picocli command. */
public final class HydraNetCommand {
  private HydraNetCommand() {}

  public static void main(String[] args) {
    System.out.println("hydranet");
  }
}
