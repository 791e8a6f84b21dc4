package net.hydranet.router.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.util.Base64;
import java.util.concurrent.Callable;
import net.hydranet.control.auth.Keys;
import net.hydranet.control.replica.Bundle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hydranet bundle sign}: an origin signs a replica bundle for host servers to accept. */
@Command(
    name = "bundle",
    mixinStandardHelpOptions = true,
    description = "Replica bundles (REPLICAS.md, 'Bundles').",
    subcommands = {BundleCommand.Sign.class})
public final class BundleCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** Writes JAR.sig: base64 of the origin's Ed25519 signature over "HNBUNDLE1" ‖ SHA-256(jar). */
  @Command(
      name = "sign",
      mixinStandardHelpOptions = true,
      description = {
        "Signs a bundle jar with the origin's key: writes JAR.sig (base64 of 64 bytes).",
        "The manifest is checked first, so a bundle no host server would accept is not signed.",
        "",
        "Example:",
        "  hydranet bundle sign --key keys/origin.key hydraweb-replica.jar"
      })
  static final class Sign implements Callable<Integer> {
    @Option(names = "--key", required = true, description = "the origin's private key (PEM)")
    Path key;

    @Parameters(index = "0", paramLabel = "JAR")
    Path jar;

    @Override
    public Integer call() {
      PrivateKey k;
      byte[] bytes;
      try {
        k = Keys.readPrivate(key);
        bytes = Files.readAllBytes(jar);
      } catch (IOException e) {
        throw new UserError(e.getMessage());
      }
      // The manifest is checked as a host server would, under a throwaway key (the JDK cannot
      // derive an Ed25519 public key from the private one).
      Bundle b;
      try {
        var check = Keys.generate();
        b = Bundle.open(bytes, Bundle.sign(bytes, check.getPrivate()), check.getPublic());
      } catch (Bundle.BundleException e) {
        throw new UserError(jar + ": " + e.getMessage());
      }
      byte[] sig = Bundle.sign(bytes, k);
      Path out = jar.resolveSibling(jar.getFileName() + ".sig");
      try {
        Files.writeString(
            out, Base64.getEncoder().encodeToString(sig) + "\n", StandardCharsets.US_ASCII);
      } catch (IOException e) {
        throw new UserError(out + ": " + e.getMessage());
      }
      System.out.println(out + "  " + b);
      return 0;
    }
  }

  /** Reads JAR.sig (or the given file): base64 text or the raw 64 bytes. */
  static byte[] readSignature(Path sig) {
    try {
      return Bundle.readSignature(sig);
    } catch (IOException e) {
      throw new UserError(e.getMessage());
    }
  }
}
