package net.hydranet.router.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.concurrent.Callable;
import net.hydranet.control.auth.Keys;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code hydranet keygen}: an Ed25519 key pair for a node's control plane. */
@Command(
    name = "keygen",
    mixinStandardHelpOptions = true,
    description = {
      "Writes an Ed25519 key pair for the control plane: STEM.key (private, mode 0600) and",
      "STEM.pub (public, for the other nodes' trust lists). The same files as",
      "'openssl genpkey -algorithm ed25519' and 'openssl pkey -pubout' write.",
      "",
      "Example:",
      "  hydranet keygen /etc/hydranet/keys/redirector1"
    })
public final class KeygenCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "STEM", description = "path without extension")
  Path stem;

  @Override
  public Integer call() throws Exception {
    Path parent = stem.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    KeyPair pair = Keys.generate();
    Keys.write(pair, stem);
    System.out.println(stem + ".key");
    System.out.println(stem + ".pub  " + Keys.publicBase64(pair.getPublic()));
    return 0;
  }
}
