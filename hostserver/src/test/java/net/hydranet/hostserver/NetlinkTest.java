package net.hydranet.hostserver;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static net.hydranet.hostserver.NetlinkPeer.done;
import static net.hydranet.hostserver.NetlinkPeer.error;
import static net.hydranet.hostserver.NetlinkPeer.message;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One netlink request and its answer, against crafted answers a {@link NetlinkPeer} queues datagram
 * by datagram: a multi-part answer read to its end, a late answer skipped, the kernel's errors and
 * acknowledgements, and every broken or missing answer an error with its reason.
 */
class NetlinkTest {
  private static final int TYPE = 0x1234;
  private static final int SEQ = 7;

  private final NetlinkPeer peer = new NetlinkPeer();
  private final Netlink netlink = new Netlink(32, 4096);

  /** The bodies of the messages the reader was given, and how it answers each. */
  private final List<String> read = new ArrayList<>();

  private int readerSays = Netlink.MORE;

  private final Netlink.Reader reader =
      (b, at, length, type) -> {
        assertEquals(TYPE, type);
        byte[] body = new byte[length - Netlink.HEADER];
        b.getBytes(at + Netlink.HEADER, body);
        read.add(new String(body, US_ASCII));
        return readerSays;
      };

  @AfterEach
  void close() {
    peer.close();
  }

  private static byte[] text(int seq, String body) {
    return message(TYPE, seq, body.getBytes(US_ASCII));
  }

  private int exchange(int maxDatagrams) {
    netlink.header(20, TYPE, Netlink.NLM_F_REQUEST | Netlink.NLM_F_DUMP, SEQ);
    netlink.request().putInt(Netlink.HEADER, 0x0a0b0c0d);
    return netlink.exchange(peer.fd(), 20, SEQ, maxDatagrams, reader);
  }

  @Test
  void shouldSendTheRequestWholeAndReadAMultiPartAnswerToItsDone() {
    peer.answer(text(SEQ, "one"), text(SEQ, "two!"));
    peer.answer(text(SEQ, "three"), done(SEQ));
    assertEquals(Netlink.COMPLETE, exchange(8));
    assertEquals(List.of("one", "two!", "three"), read, "each message's own length, no padding");
    ByteBuffer sent = ByteBuffer.wrap(peer.request()).order(ByteOrder.nativeOrder());
    assertEquals(20, sent.limit());
    assertEquals(20, sent.getInt(0));
    assertEquals(TYPE, sent.getShort(4));
    assertEquals(Netlink.NLM_F_REQUEST | Netlink.NLM_F_DUMP, sent.getShort(6));
    assertEquals(SEQ, sent.getInt(8));
    assertEquals(0, sent.getInt(12));
    assertEquals(0x0a0b0c0d, sent.getInt(16));
    assertNull(peer.request(), "one request");
  }

  @Test
  void shouldSkipALateAnswerToAnEarlierRequestAndEndWhereTheReaderSays() {
    peer.answer(text(SEQ - 1, "late"), done(SEQ - 1));
    peer.answer(text(SEQ, "mine"), text(SEQ, "never"));
    readerSays = Netlink.COMPLETE;
    assertEquals(Netlink.COMPLETE, exchange(4));
    assertEquals(List.of("mine"), read);
  }

  @Test
  void shouldTakeAnErrorAsRefusedWithItsErrnoAndAnAcknowledgementAsComplete() {
    peer.answer(text(SEQ, "part"), error(SEQ, -22));
    assertEquals(Netlink.REFUSED, exchange(4));
    assertEquals(22, netlink.errno());
    assertEquals("refused: errno 22", netlink.describe(Netlink.REFUSED));
    peer.request();
    peer.answer(error(SEQ, 0));
    assertEquals(Netlink.COMPLETE, exchange(4));
    assertEquals(0, netlink.errno());
    // A dump the kernel broke off: its NLMSG_DONE carries the errno (ENOBUFS).
    peer.answer(text(SEQ, "part"), done(SEQ, -105));
    assertEquals(Netlink.REFUSED, exchange(4));
    assertEquals(105, netlink.errno());
  }

  @Test
  void shouldCallAnEmptySocketOrAShortDatagramNoAnswer() {
    peer.answer(text(SEQ, "part"));
    assertEquals(Netlink.NO_ANSWER, exchange(4), "the dump's end never came");
    assertEquals(11, netlink.errno(), "EAGAIN");
    assertEquals("the answer ended early: errno 11", netlink.describe(Netlink.NO_ANSWER));
    peer.answer(new byte[8]);
    assertEquals(Netlink.NO_ANSWER, exchange(4));
    assertEquals(
        "the answer ended early: a datagram of 8 bytes", netlink.describe(Netlink.NO_ANSWER));
  }

  @Test
  void shouldRefuseADatagramLargerThanItsBufferRatherThanReadItsStart() {
    Netlink small = new Netlink(32, 64);
    // Two whole messages in the first 64 bytes: read without MSG_TRUNC, the cut would not show.
    byte[] first = text(SEQ, "a".repeat(16));
    byte[] second = text(SEQ, "b".repeat(16));
    assertEquals(64, first.length + second.length);
    peer.answer(first, second, done(SEQ));
    small.header(20, TYPE, Netlink.NLM_F_REQUEST, SEQ);
    assertEquals(Netlink.TRUNCATED, small.exchange(peer.fd(), 20, SEQ, 4, reader));
    assertEquals(List.of(), read);
    assertEquals(
        "a datagram of 84 bytes, larger than the buffer of 64", small.describe(Netlink.TRUNCATED));
  }

  @Test
  void shouldStopAnAnswerLongerThanItsBound() {
    for (int i = 0; i < 3; i++) {
      peer.answer(text(SEQ, "part"));
    }
    assertEquals(Netlink.TOO_LONG, exchange(2));
    assertEquals(2, read.size());
    assertEquals("an answer of more than 2 datagrams", netlink.describe(Netlink.TOO_LONG));
  }

  /** Each datagram alone, parsed: all malformed. */
  @Test
  void shouldRefuseEveryMessageThatDoesNotFitItsDatagramOrItsType() {
    byte[] good = text(SEQ, "good");
    byte[] longer = good.clone();
    ByteBuffer.wrap(longer).order(ByteOrder.nativeOrder()).putInt(0, good.length + 4);
    byte[] shorter = good.clone();
    ByteBuffer.wrap(shorter).order(ByteOrder.nativeOrder()).putInt(0, Netlink.HEADER - 1);
    byte[] errorCut = message(Netlink.NLMSG_ERROR, SEQ, new byte[2]);
    byte[] doneCut = message(Netlink.NLMSG_DONE, SEQ, new byte[0]);
    byte[] positiveError = error(SEQ, 22);
    List<byte[]> malformed =
        List.of(
            longer, // a length beyond the datagram
            shorter, // a length shorter than its header
            concat(good, new byte[8]), // bytes after the last message, fewer than a header
            Arrays.copyOf(good, 12), // less than a header
            errorCut, // an error without its errno
            doneCut, // an end without its status
            positiveError); // an errno not negative
    for (byte[] datagram : malformed) {
      assertEquals(Netlink.MALFORMED, parse(datagram), Arrays.toString(datagram));
    }
    readerSays = Netlink.MALFORMED;
    assertEquals(Netlink.MALFORMED, parse(good), "the reader's word");
    readerSays = Netlink.MORE;
    assertEquals(Netlink.MORE, parse(good));
    assertTrue(netlink.describe(Netlink.MALFORMED).startsWith("a malformed answer"));
  }

  private int parse(byte[] datagram) {
    UnsafeBuffer b = netlink.response();
    b.putBytes(0, datagram);
    return netlink.parse(datagram.length, SEQ, reader);
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  @Test
  void shouldWriteTheHeaderInHostOrderAndZeroTheRest() {
    netlink.request().setMemory(0, 32, (byte) 0x55);
    netlink.header(28, 30, Netlink.NLM_F_REQUEST | Netlink.NLM_F_DUMP, 9);
    byte[] b = new byte[28];
    netlink.request().getBytes(0, b);
    ByteBuffer expected = ByteBuffer.allocate(28).order(ByteOrder.nativeOrder());
    expected.putInt(28).putShort((short) 30).putShort((short) 0x301).putInt(9);
    assertArrayEquals(expected.array(), b);
    assertEquals(0x55, netlink.request().getByte(28), "beyond the request: untouched");
  }
}
