package net.hydranet.hydraweb.channel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.nio.channels.Channels;
import java.util.Arrays;
import net.hydranet.replica.ProtocolException;
import org.junit.jupiter.api.Test;

class ChannelFramingTest {
  @Test
  void shouldRoundTripFramesAndEndCleanly() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    var w = Channels.newChannel(out);
    ChannelFraming.write(w, new byte[] {1, 2, 3});
    ChannelFraming.write(w, new byte[0]);
    var r = Channels.newChannel(new ByteArrayInputStream(out.toByteArray()));
    assertArrayEquals(new byte[] {1, 2, 3}, ChannelFraming.read(r));
    assertArrayEquals(new byte[0], ChannelFraming.read(r));
    assertNull(ChannelFraming.read(r));
  }

  @Test
  void shouldRefuseAnOversizedLengthBeforeAllocating() {
    byte[] huge = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff};
    var r = Channels.newChannel(new ByteArrayInputStream(huge));
    assertThrows(ProtocolException.class, () -> ChannelFraming.read(r));
  }

  @Test
  void shouldRefuseATruncatedFrame() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ChannelFraming.write(Channels.newChannel(out), new byte[10]);
    byte[] cut = Arrays.copyOf(out.toByteArray(), 8);
    var r = Channels.newChannel(new ByteArrayInputStream(cut));
    assertThrows(EOFException.class, () -> ChannelFraming.read(r));
  }
}
