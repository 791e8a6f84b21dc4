package net.hydranet.forwarding.io.live;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import java.io.File;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The batch-read shim, {@code libhydranet-pcap.so} (built from {@code src/main/c/hydranet_pcap.c}
 * into the jar's {@code linux-x86-64/}): one direct-mapped call reads a whole batch of frames with
 * {@code pcap_dispatch}, whose callback, being C, copies each frame straight into its ring slot.
 * The per-frame path it replaces made 1.5 JNA calls a frame ({@code pcap_next_ex} per frame plus an
 * empty look per burst), each 0.3–0.5 µs of user time on the VMs measured.
 *
 * <p>Where from: JNA looks on {@code jna.library.path} first, where the Debian package's launcher
 * points it ({@code /usr/lib/hydranet}, an architecture-specific package's own copy), then unpacks
 * the jar's copy into its temporary directory as it does its own stub; the log line names which.
 *
 * <p>Loaded once per JVM. When it cannot be (no C compiler at build time, another platform, a
 * library that does not match this class's layout) or {@code -Dhydranet.pcap.batch=false} turns it
 * off, every capture reads one frame per {@code pcap_next_ex} as before, and one log line says why.
 *
 * <p>{@code struct hn_batch}, filled by {@link LivePcapSource}: the offsets below are pinned by
 * static assertions in the C file, and {@link #hn_pcap_abi()} must return {@link #ABI}.
 */
final class PcapShim {
  private static final Logger LOG = LoggerFactory.getLogger(PcapShim.class);

  /**
   * The system property that, set to {@code false}, keeps every capture on {@code pcap_next_ex}.
   */
  static final String PROPERTY = "hydranet.pcap.batch";

  static final String LIBRARY = "hydranet-pcap";

  static final int SLOTS = 0;
  static final int FRAMES = 8;
  static final int FIRST = 16;
  static final int MASK = 24;
  static final int SLOT_SIZE = 32;
  static final int HEADROOM = 36;
  static final int CAPACITY = 40;
  static final int MAX = 44;
  static final int INGRESS = 48;
  static final int NANOS_PER_TICK = 52;
  static final int COUNT = 56;
  static final int OVERSIZE = 64;
  static final int BYTES = 72;
  static final int OVERRUN = 80;
  static final int SIZE = 88;

  /** What {@code hn_pcap_abi()} returns for the layout above. */
  static final int ABI = SIZE * 100 + 1;

  private static final boolean AVAILABLE;
  private static final long DISPATCH;

  static {
    boolean available = false;
    long dispatch = 0;
    if (!enabledByProperty()) {
      LOG.info("pcap batch reads off (-D{}=false): one pcap_next_ex per frame", PROPERTY);
    } else {
      try {
        PcapNative.load();
        final NativeLibrary shim = NativeLibrary.getInstance(LIBRARY);
        Native.register(PcapShim.class, shim);
        final int abi = hn_pcap_abi();
        if (abi != ABI) {
          throw new UnsatisfiedLinkError(
              "lib" + LIBRARY + ".so has layout " + abi + ", need " + ABI);
        }
        dispatch = PcapNative.functionAddress("pcap_dispatch");
        available = true;
        LOG.info(
            "pcap batch reads: pcap_dispatch through {}, one call per batch",
            origin(shim.getFile()));
      } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
        // JNA lists every place it looked on a line of its own: one log line says it all.
        LOG.warn(
            "pcap batch reads unavailable, one pcap_next_ex per frame instead: {}",
            String.valueOf(e.getMessage()).replace('\n', ' '));
      }
    }
    AVAILABLE = available;
    DISPATCH = dispatch;
  }

  private PcapShim() {}

  /**
   * Where the shim was loaded from, as its log line says it: the file JNA opened when it found one
   * by name (on {@code jna.library.path}, or the class path's directory in a build), else the jar's
   * copy that JNA unpacked under another name into its temporary directory.
   */
  static String origin(File file) {
    final String name = System.mapLibraryName(LIBRARY);
    if (file == null) {
      return name;
    }
    if (file.getName().equals(name)) {
      return file.getPath();
    }
    return name + " unpacked from the jar into " + file.getParent();
  }

  /** False only if {@code -Dhydranet.pcap.batch=false}. */
  static boolean enabledByProperty() {
    return !"false".equalsIgnoreCase(System.getProperty(PROPERTY, "true").trim());
  }

  /** True when the shim is loaded and on: {@link #read} may be called. */
  static boolean available() {
    return AVAILABLE;
  }

  /**
   * Reads up to the batch's {@code max} frames of capture {@code pcap} into its slots.
   *
   * @return {@code pcap_dispatch}'s result: frames processed, 0, or a {@code PCAP_ERROR*} code
   */
  static int read(long pcap, long batch) {
    return hn_pcap_read(DISPATCH, pcap, batch);
  }

  private static native int hn_pcap_read(long dispatch, long pcap, long batch);

  private static native int hn_pcap_abi();
}
