package net.hydranet.router.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * One line a daemon's ctl socket received, and the shapes of the answers every daemon shares: the
 * words of the request, {@code --json} anywhere in them for a JSON answer, and the answers the
 * client turns into exit codes ({@link #exitCode}): "unknown request" and "usage:" exit 2,
 * "FAILED", "REFUSED" and "error:" exit 1; in JSON, an {@code error} member (with {@code requests}
 * for an unknown request) does the same.
 */
record CtlRequest(List<String> words, boolean json) {
  static final ObjectMapper JSON = new ObjectMapper();

  static CtlRequest parse(String line) {
    List<String> words = new ArrayList<>();
    boolean json = false;
    for (String w : line.strip().split("\\s+")) {
      if (w.equals("--json")) {
        json = true;
      } else if (!w.isEmpty()) {
        words.add(w);
      }
    }
    return new CtlRequest(List.copyOf(words), json);
  }

  /** The request's name; "all" when none was given. */
  String verb() {
    return words.isEmpty() ? "all" : words.get(0);
  }

  /** The request's {@code i}-th argument (1 is the first after the name), or null. */
  String arg(int i) {
    return i < words.size() ? words.get(i) : null;
  }

  /** The answer to a request no view matches, naming the ones that do. */
  String unknown(String... requests) {
    if (json) {
      ObjectNode o = JSON.createObjectNode().put("error", "unknown request '" + verb() + "'");
      ArrayNode a = o.putArray("requests");
      for (String r : requests) {
        a.add(r);
      }
      return o.toString() + "\n";
    }
    return "unknown request '" + verb() + "'; requests: " + String.join(", ", requests) + "\n";
  }

  /** A failure of the request, as text ("error: ...") or JSON ({"error": ...}). */
  String error(String message) {
    return json
        ? JSON.createObjectNode().put("error", message).toString() + "\n"
        : "error: " + message + "\n";
  }

  /** A JSON answer, one line. */
  static String answer(JsonNode node) {
    return node.toString() + "\n";
  }

  /**
   * The exit code {@code hydranet ctl} gives an answer: 0, 1 when the daemon reports a failure, 2
   * for an unknown request or a usage error.
   */
  static int exitCode(String answer) {
    String a = answer.stripLeading();
    if (a.startsWith("{")) {
      try {
        JsonNode n = JSON.readTree(a);
        if (n.has("error")) {
          return n.has("requests") || n.get("error").asText().startsWith("usage:") ? 2 : 1;
        }
        return 0;
      } catch (java.io.IOException e) {
        return 1; // a daemon never sends broken JSON: say something is wrong
      }
    }
    if (a.startsWith("unknown request") || a.startsWith("usage:")) {
      return 2;
    }
    if (a.startsWith("FAILED") || a.startsWith("REFUSED") || a.startsWith("error:")) {
      return 1;
    }
    return 0;
  }
}
