package net.hydranet.router.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * sd_notify's datagrams as systemd receives them: a python3 socket bound where NOTIFY_SOCKET points
 * (a path, or an abstract name) prints each message it gets.
 */
class SdNotifyTest {
  @TempDir Path dir;
  private Process receiver;
  private final BlockingQueue<String> received = new LinkedBlockingQueue<>();

  @AfterEach
  void stop() {
    if (receiver != null) {
      receiver.destroyForcibly();
    }
  }

  private void listen(String address) throws Exception {
    assumeTrue(
        new ProcessBuilder("python3", "-c", "pass").start().waitFor() == 0,
        "python3 is needed to receive the datagrams");
    String script =
        "import socket,sys\n"
            + "a=sys.argv[1]\n"
            + "s=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\n"
            + "s.bind('\\0'+a[1:] if a.startswith('@') else a)\n"
            + "print('bound',flush=True)\n"
            + "while True:\n"
            + "  print(s.recv(4096).decode().replace('\\n','|'),flush=True)\n";
    receiver = new ProcessBuilder("python3", "-c", script, address).start();
    BufferedReader out =
        new BufferedReader(
            new InputStreamReader(receiver.getInputStream(), StandardCharsets.UTF_8));
    assertEquals("bound", out.readLine());
    Thread t =
        new Thread(
            () -> {
              try {
                for (String l; (l = out.readLine()) != null; ) {
                  received.add(l);
                }
              } catch (Exception e) {
                // the receiver was stopped
              }
            });
    t.setDaemon(true);
    t.start();
  }

  @Test
  void shouldSendReadyReloadingAndStoppingToAPathSocket() throws Exception {
    Path socket = dir.resolve("notify");
    listen(socket.toString());
    SdNotify n = new SdNotify(socket.toString(), 0);
    assertTrue(n.enabled());
    assertTrue(n.send("READY=1\nSTATUS=forwarding"));
    assertEquals("READY=1|STATUS=forwarding", received.poll(5, TimeUnit.SECONDS));
    assertTrue(n.send("STOPPING=1"));
    assertEquals("STOPPING=1", received.poll(5, TimeUnit.SECONDS));
    assertTrue(Files.exists(socket));
  }

  @Test
  void shouldSendToAnAbstractSocket() throws Exception {
    String name = "@hydranet-sdnotify-test-" + ProcessHandle.current().pid();
    listen(name);
    SdNotify n = new SdNotify(name, 0);
    assertTrue(n.send("READY=1"));
    assertEquals("READY=1", received.poll(5, TimeUnit.SECONDS));
  }

  @Test
  void shouldDoNothingWithoutNotifySocket() {
    SdNotify n = new SdNotify(null, 1_000_000);
    assertFalse(n.enabled());
    assertFalse(n.send("READY=1"));
    assertEquals(0, n.watchdogMicros(), "no watchdog without a socket");
    assertFalse(new SdNotify("relative/path", 0).enabled(), "not a socket address");
  }

  @Test
  void shouldReportAFailedSendInsteadOfThrowing() {
    SdNotify n = new SdNotify(dir.resolve("nobody-listens").toString(), 0);
    assertFalse(n.send("READY=1"));
  }

  @Test
  void shouldPetTheWatchdogOnlyWhileTheDataPathAnswers() throws Exception {
    Path socket = dir.resolve("watchdog");
    listen(socket.toString());
    SdNotify n = new SdNotify(socket.toString(), 40_000); // 40 ms: pets every 20 ms
    AtomicBoolean alive = new AtomicBoolean(true);
    BlockingQueue<Runnable> queue = new LinkedBlockingQueue<>();
    Thread forwarding =
        new Thread(
            () -> {
              try {
                while (true) {
                  Runnable r = queue.take();
                  if (alive.get()) {
                    r.run();
                  }
                }
              } catch (InterruptedException e) {
                // end
              }
            });
    forwarding.setDaemon(true);
    forwarding.start();
    n.startWatchdog(queue::add, () -> null);
    List<String> seen = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      seen.add(received.poll(5, TimeUnit.SECONDS));
    }
    assertEquals(
        List.of("WATCHDOG=1", "WATCHDOG=1", "WATCHDOG=1", "WATCHDOG=1", "WATCHDOG=1"), seen);

    alive.set(false); // the forwarding thread hangs: its probes never run
    Thread.sleep(100);
    received.clear();
    assertEquals(null, received.poll(300, TimeUnit.MILLISECONDS), "no pet while hung");

    alive.set(true);
    queue.add(() -> {}); // wake it; the pending probe was dropped, so post-hang pets need a new one
    n.stopWatchdog();
    forwarding.interrupt();
  }

  @Test
  void shouldWithholdThePetWhileTheDaemonReportsAnError() throws Exception {
    Path socket = dir.resolve("error");
    listen(socket.toString());
    SdNotify n = new SdNotify(socket.toString(), 40_000);
    AtomicBoolean failed = new AtomicBoolean(false);
    n.startWatchdog(Runnable::run, () -> failed.get() ? "receive failed" : null);
    assertEquals("WATCHDOG=1", received.poll(5, TimeUnit.SECONDS));
    failed.set(true);
    Thread.sleep(100);
    received.clear();
    assertEquals(null, received.poll(300, TimeUnit.MILLISECONDS), "no pet while failed");
    failed.set(false);
    assertEquals("WATCHDOG=1", received.poll(5, TimeUnit.SECONDS), "pets again once well");
    n.stopWatchdog();
  }
}
