package net.hydranet.router.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.util.Base64;
import java.util.concurrent.Callable;
import net.hydranet.control.auth.Keys;
import net.hydranet.replica.Bundle;
import net.hydranet.router.error.UserError;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hydranet bundle sign}: an origin signs a replica bundle for host servers to accept. */
@Command(
    name = "bundle",
    mixinStandardHelpOptions = true,
    description = {
      "Replica bundles (REPLICAS.md, 'Bundles'): build one from an application jar, then sign",
      "it with the origin's key; host servers run only bundles their origin signed.",
      "",
      "Example:",
      "  hydranet bundle build --app hydraweb.jar --origin 198.18.2.10 --ports tcp/80 \\",
      "      --out web.jar",
      "  hydranet bundle sign --key keys/origin.key web.jar      # writes web.jar.sig"
    },
    subcommands = {BundleCommand.Build.class, BundleCommand.Sign.class})
public final class BundleCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** Makes a bundle from an application jar: its entries, with the declared manifest. */
  @Command(
      name = "build",
      mixinStandardHelpOptions = true,
      description = {
        "Makes a replica bundle out of an application jar: the same entries, with the",
        "manifest attributes a host server reads (what it serves, what it asks for).",
        "",
        "Example:",
        "  hydranet bundle build --app hydraweb/target/hydraweb.jar --origin 198.18.2.10 \\",
        "      --ports tcp/80 --arguments '--listen 0.0.0.0:80' --memory 256m --cpus 0.5 \\",
        "      --pids 128 --files 1024 --out hydraweb-bundle.jar"
      })
  static final class Build implements Callable<Integer> {
    @Option(names = "--app", required = true, description = "the application jar")
    Path app;

    @Option(names = "--main-class", description = "default: the application's Main-Class")
    String mainClass;

    @Option(
        names = "--origin",
        required = true,
        description =
            "the address it serves as: IPv4, or IPv6 (2001:2::10; then --arguments"
                + " '--listen [::]:80')")
    String origin;

    @Option(names = "--ports", required = true, split = ",", description = "tcp/80,udp/53")
    java.util.List<String> ports;

    @Option(names = "--arguments", defaultValue = "", description = "the replica's arguments")
    String arguments;

    @Option(names = "--memory", defaultValue = "256m", description = "(${DEFAULT-VALUE})")
    String memory;

    @Option(names = "--cpus", defaultValue = "0.5", description = "(${DEFAULT-VALUE})")
    String cpus;

    @Option(names = "--pids", defaultValue = "128", description = "(${DEFAULT-VALUE})")
    int pids;

    @Option(names = "--files", defaultValue = "1024", description = "(${DEFAULT-VALUE})")
    int files;

    @Option(names = "--out", required = true, description = "the bundle jar to write")
    Path out;

    @Override
    public Integer call() {
      try {
        var asked =
            new net.hydranet.replica.Resources(
                net.hydranet.replica.Resources.parseSize(memory),
                net.hydranet.replica.Resources.parseCpus(cpus),
                pids,
                files);
        byte[] jar =
            net.hydranet.replica.BundleBuilder.build(
                Files.readAllBytes(app),
                new net.hydranet.replica.BundleBuilder.Declaration(
                    mainClass, origin, ports, arguments, asked));
        Files.write(out, jar);
        var check = Keys.generate();
        Bundle b = Bundle.open(jar, Bundle.sign(jar, check.getPrivate()), check.getPublic());
        System.out.println(out + "  " + b);
      } catch (IOException | IllegalArgumentException e) {
        throw new UserError(e.getMessage());
      } catch (Bundle.BundleException e) {
        throw new UserError(out + ": " + e.getMessage());
      }
      return 0;
    }
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
