package net.hydranet.router.cli;

import picocli.CommandLine;

/** The version from the jar manifest, or "development" when run from classes. */
public final class VersionProvider implements CommandLine.IVersionProvider {
  @Override
  public String[] getVersion() {
    String version = HydraNetCommand.class.getPackage().getImplementationVersion();
    return new String[] {"hydranet " + (version == null ? "development" : version)};
  }
}
