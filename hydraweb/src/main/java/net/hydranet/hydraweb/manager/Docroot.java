package net.hydranet.hydraweb.manager;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The origin's document root as the manager sees it: every regular file (symbolic links are not
 * followed) as URL paths — {@code a/b.html} is {@code /a/b.html}, and {@code a/index.html} is also
 * {@code /a/} — each with a version that grows whenever the file's mtime or size changes (its mtime
 * in ms, or one more than the last version if that is not larger, so a version never goes back,
 * even for a file deleted and re-created older), and whether it is a template (its file matches the
 * {@code templates} globs; both URL paths of an index file are). Rescanned by polling; a scan
 * publishes a new immutable snapshot.
 */
final class Docroot {
  /** One URL path of one file. */
  record FileState(
      String path, Path file, long mtimeMillis, long size, long version, boolean template) {}

  /** At most this many files are looked at (a docroot is not meant to be a file system). */
  static final int MAX_FILES = 200_000;

  private final Path root;
  private final DocrootGlobs preheat;
  private final DocrootGlobs templates;
  private final long preheatBytes;
  private final long maxObjectBytes;
  private final Map<String, FileState> byFile = new HashMap<>(); // scanning thread only
  private final Map<String, Long> lastVersion = new HashMap<>(); // scanning thread only
  private volatile Map<String, FileState> all = Map.of();
  private volatile Map<String, FileState> preheatSet = Map.of();
  private volatile int templateCount;

  Docroot(
      Path root,
      List<String> preheat,
      List<String> templates,
      long preheatBytes,
      long maxObjectBytes) {
    this.root = root.toAbsolutePath().normalize();
    this.preheat = DocrootGlobs.compile(preheat, "preheat");
    this.templates = DocrootGlobs.compile(templates, "templates");
    this.preheatBytes = preheatBytes;
    this.maxObjectBytes = maxObjectBytes;
  }

  /** Rescans; returns how many URL paths are new, changed or gone. */
  int scan() throws IOException {
    List<Path> files = new ArrayList<>();
    try (Stream<Path> s = Files.walk(root)) {
      s.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS))
          .limit(MAX_FILES)
          .forEach(files::add);
    } catch (UncheckedIOException e) {
      throw e.getCause(); // a file vanished mid-walk, a directory unreadable: try next time
    }
    Map<String, FileState> seen = new HashMap<>();
    TreeMap<String, FileState> urls = new TreeMap<>();
    for (Path f : files) {
      String rel = root.relativize(f).toString().replace(f.getFileSystem().getSeparator(), "/");
      BasicFileAttributes a;
      try {
        a = Files.readAttributes(f, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      } catch (IOException e) {
        continue; // gone since the walk
      }
      long mtime = a.lastModifiedTime().toMillis();
      FileState prev = byFile.get(rel);
      long version;
      if (prev != null && prev.mtimeMillis() == mtime && prev.size() == a.size()) {
        version = prev.version();
      } else {
        version = Math.max(mtime, lastVersion.getOrDefault(rel, 0L) + 1);
        lastVersion.put(rel, version);
      }
      boolean template = templates.matches(root.relativize(f));
      FileState fs = new FileState("/" + rel, f, mtime, a.size(), version, template);
      seen.put(rel, fs);
      urls.put(fs.path(), fs);
      if (rel.equals("index.html") || rel.endsWith("/index.html")) {
        String dir = "/" + rel.substring(0, rel.length() - "index.html".length());
        urls.put(dir, new FileState(dir, f, mtime, a.size(), version, template));
      }
    }
    Map<String, FileState> old = all;
    int changes = 0;
    for (FileState fs : urls.values()) {
      FileState o = old.get(fs.path());
      if (o == null || o.version() != fs.version()) {
        changes++;
      }
    }
    for (String p : old.keySet()) {
      if (!urls.containsKey(p)) {
        changes++;
      }
    }
    byFile.clear();
    byFile.putAll(seen);
    all = Collections.unmodifiableMap(urls);
    templateCount = (int) urls.values().stream().filter(FileState::template).count();
    preheatSet = Collections.unmodifiableMap(select(urls));
    return changes;
  }

  private Map<String, FileState> select(TreeMap<String, FileState> urls) {
    Map<String, FileState> chosen = new TreeMap<>();
    long bytes = 0;
    for (FileState fs : urls.values()) {
      if (fs.size() > maxObjectBytes || !matches(fs)) {
        continue;
      }
      if (bytes + fs.size() > preheatBytes) {
        continue; // smaller files further on may still fit
      }
      bytes += fs.size();
      chosen.put(fs.path(), fs);
    }
    return chosen;
  }

  private boolean matches(FileState fs) {
    return preheat.isEmpty() || preheat.matches(root.relativize(fs.file()));
  }

  /** Every URL path the docroot serves, by path. */
  Map<String, FileState> all() {
    return all;
  }

  /** How many URL paths are templates. */
  int templateCount() {
    return templateCount;
  }

  /** The URL paths pushed to every replica. */
  Map<String, FileState> preheat() {
    return preheatSet;
  }

  FileState get(String path) {
    return all.get(path);
  }

  /** The file's bytes, or null if it changed since the scan (the next scan brings it). */
  byte[] read(FileState fs) throws IOException {
    if (fs.size() > maxObjectBytes) {
      return null;
    }
    byte[] b = Files.readAllBytes(fs.file());
    BasicFileAttributes a =
        Files.readAttributes(fs.file(), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    if (a.lastModifiedTime().toMillis() != fs.mtimeMillis() || b.length != fs.size()) {
      return null;
    }
    return b;
  }

  Path root() {
    return root;
  }
}
