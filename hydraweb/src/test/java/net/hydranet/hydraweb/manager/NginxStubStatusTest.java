package net.hydranet.hydraweb.manager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NginxStubStatusTest {
  @TempDir Path tmp;

  @Test
  void shouldReadTheRequestsCounter() throws IOException {
    String page =
        "Active connections: 291 \nserver accepts handled requests\n 16630948 16630948 31070465 \n"
            + "Reading: 6 Writing: 179 Waiting: 106 \n";
    assertEquals(31070465L, NginxStubStatus.requests(page));
    assertThrows(IOException.class, () -> NginxStubStatus.requests("<html>404</html>"));
    assertThrows(
        IOException.class,
        () -> NginxStubStatus.requests("server accepts handled requests\n 1 2 x\n"));
  }

  @Test
  void shouldDifferenceTheCounterOverTime() throws Exception {
    try (FakeNginx nginx = new FakeNginx(tmp)) {
      AtomicLong nanos = new AtomicLong();
      NginxStubStatus s =
          new NginxStubStatus(nginx.status(), HttpClient.newHttpClient(), nanos::get);
      nginx.requestsPerRead = 500;
      assertTrue(Double.isNaN(s.requestsPerSecond()), "one sample is no rate");
      nanos.addAndGet(2_000_000_000L);
      assertEquals(250.0, s.requestsPerSecond(), 1e-9);
    }
  }
}
