package net.hydranet.hydraweb.manager;

import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.PatternSyntaxException;

/**
 * A list of globs over document-root files, as the manager's config writes them ({@code preheat},
 * {@code templates}): each is matched against the file's path relative to the document root with
 * {@link java.nio.file.FileSystem#getPathMatcher} glob syntax ({@code *} within a directory, {@code
 * **} across directories); a leading '/' is optional; and a leading {@code **}{@code /} also
 * matches at the top, as an operator expects ({@code **}{@code /*.shtml} is every .shtml file, the
 * document root's own included, which the plain glob would miss).
 */
final class DocrootGlobs {
  private final List<PathMatcher> matchers;
  private final boolean empty;

  private DocrootGlobs(List<PathMatcher> matchers, boolean empty) {
    this.matchers = matchers;
    this.empty = empty;
  }

  /**
   * Compiles {@code globs}; a wrong one is an {@link IllegalArgumentException} naming {@code
   * field[i]}, the glob and why.
   */
  static DocrootGlobs compile(List<String> globs, String field) {
    List<PathMatcher> m = new ArrayList<>();
    for (int i = 0; i < globs.size(); i++) {
      String g = globs.get(i);
      String at = field + "[" + i + "]";
      if (g == null || g.isBlank()) {
        throw new IllegalArgumentException(at + ": an empty glob matches nothing");
      }
      String glob = g.startsWith("/") ? g.substring(1) : g;
      if (glob.isEmpty()) {
        throw new IllegalArgumentException(
            at + ": '/' alone matches no file (every file is '/**')");
      }
      try {
        m.add(FileSystems.getDefault().getPathMatcher("glob:" + glob));
        if (glob.startsWith("**/") && glob.length() > 3) {
          m.add(FileSystems.getDefault().getPathMatcher("glob:" + glob.substring(3)));
        }
      } catch (PatternSyntaxException e) {
        throw new IllegalArgumentException(
            at + ": '" + g + "' is not a glob: " + e.getDescription(), e);
      }
    }
    return new DocrootGlobs(List.copyOf(m), globs.isEmpty());
  }

  /** True when no glob was given. */
  boolean isEmpty() {
    return empty;
  }

  /** True if some glob matches {@code relative}, a path relative to the document root. */
  boolean matches(Path relative) {
    for (PathMatcher m : matchers) {
      if (m.matches(relative)) {
        return true;
      }
    }
    return false;
  }
}
