package net.hydranet.router.error;

/** An error the operator can fix, printed as one line with no stack trace. */
public final class UserError extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public UserError(String message) {
    super(message, null, false, false);
  }
}
