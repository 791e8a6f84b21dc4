package net.hydranet.forwarding.io.live;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import org.junit.jupiter.api.Test;

/**
 * Where the batch-read shim's log line says it came from: the operator reads there whether the
 * Debian package's copy was used or the jar's was unpacked into a temporary directory.
 */
class PcapShimTest {
  @Test
  void shouldNameTheFileFoundOnTheLibraryPath() {
    assertEquals(
        "/usr/lib/hydranet/libhydranet-pcap.so",
        PcapShim.origin(new File("/usr/lib/hydranet/libhydranet-pcap.so")));
  }

  @Test
  void shouldSayWhenJnaUnpackedTheJarsCopy() {
    // JNA unpacks a class path resource as jna<digits>.tmp into its temporary directory.
    assertEquals(
        "libhydranet-pcap.so unpacked from the jar into /tmp/jna--1234",
        PcapShim.origin(new File("/tmp/jna--1234/jna5820011139348461262.tmp")));
  }

  @Test
  void shouldNameTheLibraryAloneWhenTheLinkerFoundIt() {
    assertEquals("libhydranet-pcap.so", PcapShim.origin(new File("libhydranet-pcap.so")));
    assertEquals("libhydranet-pcap.so", PcapShim.origin(null));
  }
}
