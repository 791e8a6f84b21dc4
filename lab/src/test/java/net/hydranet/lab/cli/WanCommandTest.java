package net.hydranet.lab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

class WanCommandTest {
  private final WanCommand.DurationConverter duration = new WanCommand.DurationConverter();

  @Test
  void shouldReadDurationsInEveryUnit() {
    assertEquals(195_000_000L, duration.convert("195ms"));
    assertEquals(1_500_000_000L, duration.convert("1.5s"));
    assertEquals(250_000L, duration.convert("250us"));
    assertEquals(250_000L, duration.convert("250µs"));
    assertEquals(800L, duration.convert("800ns"));
    assertEquals(0L, duration.convert("0"));
    assertEquals(2_500_000L, duration.convert("2.5MS"));
  }

  @Test
  void shouldRefuseADurationWithoutAUnitOrOutOfRange() {
    assertThrows(TypeConversionException.class, () -> duration.convert("195"));
    assertThrows(TypeConversionException.class, () -> duration.convert("-5ms"));
    assertThrows(TypeConversionException.class, () -> duration.convert("fast"));
    assertThrows(TypeConversionException.class, () -> duration.convert("2h"));
    assertThrows(TypeConversionException.class, () -> duration.convert("3601s"));
  }

  @Test
  void shouldRefuseAWireWithBothEndsOnOneInterface() {
    assertEquals(2, HydraNetLab.execute("wan", "--a", "eth0", "--b", "eth0"));
  }
}
