package net.hydranet.router.docs;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import net.hydranet.router.cli.HydraNetCommand;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * Writes the package's man pages (troff, gzipped: {@code hydranet(1)} and {@code hydranet-SUB(1)}
 * for every registered subcommand) and its bash completion from the picocli model of {@code
 * hydranet}: the help an operator reads with {@code --help} and in {@code man} is one text. Run by
 * the build (exec-maven-plugin, prepare-package) with the output directory.
 *
 * <p>picocli-codegen's ManPageGenerator writes AsciiDoc, which needs asciidoctor (a Ruby toolchain)
 * to become a man page; the troff subset a man page uses is small enough to write here.
 */
public final class PackageDocs {
  private PackageDocs() {}

  /**
   * {@code MAN-DIR COMPLETION-FILE VERSION [CLASS…]}: with command classes after the version (the
   * lab's package: its {@code demo} and {@code wan}), they are added under {@code hydranet} and
   * only their pages (and their subcommands') are written; a COMPLETION-FILE of {@code -} writes
   * none.
   */
  public static void main(String[] args) throws IOException, ClassNotFoundException {
    if (args.length < 3) {
      System.err.println("usage: PackageDocs MAN-DIR COMPLETION-FILE VERSION [COMMAND-CLASS...]");
      System.exit(2);
    }
    CommandLine root = new CommandLine(new HydraNetCommand());
    List<CommandLine> all = new ArrayList<>();
    if (args.length == 3) {
      all.add(root);
      all.addAll(root.getSubcommands().values());
    } else {
      for (int i = 3; i < args.length; i++) {
        CommandLine added = new CommandLine(Class.forName(args[i]));
        root.addSubcommand(added);
        all.add(added);
        all.addAll(added.getSubcommands().values());
      }
    }
    String version = "hydranet " + args[2];
    Path manDir = Path.of(args[0]);
    Files.createDirectories(manDir);
    List<String> names = new ArrayList<>();
    for (CommandLine c : all) {
      names.add(pageName(c.getCommandSpec()));
    }
    for (CommandLine c : all) {
      String page = manPage(c.getCommandSpec(), version, names);
      gzip(manDir.resolve(pageName(c.getCommandSpec()) + ".1.gz"), page);
    }
    if (!args[1].equals("-")) {
      Path completion = Path.of(args[1]);
      Files.createDirectories(completion.toAbsolutePath().getParent());
      Files.writeString(completion, AutoComplete.bash("hydranet", root));
    }
  }

  /** hydranet, hydranet-redirector, … */
  static String pageName(CommandSpec spec) {
    return spec.qualifiedName("-");
  }

  /** The man page of one command, in the man(7) macros. */
  static String manPage(CommandSpec spec, String version, List<String> allPages) {
    StringBuilder sb = new StringBuilder();
    String name = pageName(spec);
    String[] description = spec.usageMessage().description();
    titleAndSynopsis(sb, spec, name, version, description);
    description(sb, description);
    arguments(sb, spec);
    options(sb, spec);
    commands(sb, spec);
    seeAlso(sb, name, allPages);
    return sb.toString();
  }

  /** .TH, NAME (the description's summary) and SYNOPSIS (picocli's, less its "Usage: "). */
  private static void titleAndSynopsis(
      StringBuilder sb, CommandSpec spec, String name, String version, String[] description) {
    String summary = summary(description);
    sb.append(".TH ")
        .append(name.toUpperCase(java.util.Locale.ROOT))
        .append(" 1 \"\" \"")
        .append(escape(version))
        .append("\" \"HydraNet Manual\"\n");
    sb.append(".SH NAME\n").append(escape(name)).append(" \\- ").append(escape(summary));
    sb.append("\n.SH SYNOPSIS\n.nf\n");
    String synopsis = new CommandLine.Help(spec, plain()).synopsis(0).strip();
    if (synopsis.startsWith("Usage: ")) {
      synopsis = synopsis.substring(7);
    }
    sb.append(escape(synopsis)).append("\n.fi\n");
  }

  /** DESCRIPTION: its lines indented by two set as a literal block, empty ones as paragraphs. */
  private static void description(StringBuilder sb, String[] description) {
    sb.append(".SH DESCRIPTION\n");
    boolean literal = false;
    for (String line : description) {
      boolean indented = line.startsWith("  ");
      if (indented && !literal) {
        sb.append(".nf\n.RS 4\n");
        literal = true;
      } else if (!indented && literal) {
        sb.append(".RE\n.fi\n");
        literal = false;
      }
      sb.append(line.isEmpty() ? ".PP" : escape(literal ? line.substring(2) : line)).append('\n');
    }
    if (literal) {
      sb.append(".RE\n.fi\n");
    }
  }

  private static void arguments(StringBuilder sb, CommandSpec spec) {
    if (!spec.positionalParameters().isEmpty()) {
      sb.append(".SH ARGUMENTS\n");
      for (PositionalParamSpec p : spec.positionalParameters()) {
        sb.append(".TP\n\\fI").append(escape(p.paramLabel())).append("\\fR\n");
        sb.append(escape(String.join(" ", p.description()))).append('\n');
      }
    }
  }

  /** OPTIONS, hidden ones left out. */
  private static void options(StringBuilder sb, CommandSpec spec) {
    if (!spec.options().isEmpty()) {
      sb.append(".SH OPTIONS\n");
      for (OptionSpec o : spec.options()) {
        if (o.hidden()) {
          continue;
        }
        sb.append(".TP\n");
        List<String> names = new ArrayList<>();
        for (String n : o.names()) {
          names.add("\\fB" + escape(n) + "\\fR");
        }
        sb.append(String.join(", ", names));
        if (o.arity().max() > 0) {
          sb.append(" \\fI").append(escape(o.paramLabel())).append("\\fR");
        }
        sb.append('\n').append(escape(optionText(o))).append('\n');
      }
    }
  }

  /** COMMANDS: each subcommand's summary and its own page. */
  private static void commands(StringBuilder sb, CommandSpec spec) {
    if (!spec.subcommands().isEmpty()) {
      sb.append(".SH COMMANDS\n");
      spec.subcommands()
          .forEach(
              (n, c) -> {
                String[] d = c.getCommandSpec().usageMessage().description();
                sb.append(".TP\n\\fB")
                    .append(escape(n))
                    .append("\\fR\n")
                    .append(escape(summary(d)))
                    .append("\nSee \\fB")
                    .append(escape(pageName(c.getCommandSpec())))
                    .append("\\fR(1).\n");
              });
    }
  }

  /** SEE ALSO: every other page, and systemctl. */
  private static void seeAlso(StringBuilder sb, String name, List<String> allPages) {
    sb.append(".SH SEE ALSO\n");
    List<String> see = new ArrayList<>();
    for (String p : allPages) {
      if (!p.equals(name)) {
        see.add("\\fB" + escape(p) + "\\fR(1)");
      }
    }
    see.add("\\fBsystemctl\\fR(1)");
    sb.append(String.join(", ", see)).append('\n');
  }

  /** The first sentence (or clause before a colon) of a description, for NAME and COMMANDS. */
  static String summary(String[] description) {
    StringBuilder text = new StringBuilder();
    for (String line : description) {
      if (line.isBlank()) {
        break;
      }
      text.append(text.length() == 0 ? "" : " ").append(line.strip());
    }
    String t = text.toString();
    int end = t.length();
    for (String stop : List.of(": ", ". ", "; ")) {
      int i = t.indexOf(stop);
      if (i > 0 && i < end) {
        end = i;
      }
    }
    t = t.substring(0, end);
    return t.endsWith(".") || t.endsWith(":") ? t.substring(0, t.length() - 1) : t;
  }

  /** An option's description with picocli's variables as --help shows them. */
  private static String optionText(OptionSpec o) {
    String text = String.join(" ", o.description());
    String def = o.defaultValue() == null ? "" : o.defaultValue();
    return text.replace("${DEFAULT-VALUE}", def).replace("${COMPLETION-CANDIDATES}", candidates(o));
  }

  private static String candidates(OptionSpec o) {
    List<String> out = new ArrayList<>();
    if (o.completionCandidates() != null) {
      o.completionCandidates().forEach(out::add);
    }
    return String.join(", ", out);
  }

  private static CommandLine.Help.ColorScheme plain() {
    return CommandLine.Help.defaultColorScheme(CommandLine.Help.Ansi.OFF);
  }

  /** Escapes text for troff: backslashes, and a control character at the start of a line. */
  static String escape(String s) {
    StringBuilder sb = new StringBuilder();
    boolean lineStart = true;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (lineStart && (c == '.' || c == '\'')) {
        sb.append("\\&");
      }
      if (c == '\\') {
        sb.append("\\e");
      } else if (c == '-') {
        sb.append("\\-");
      } else {
        sb.append(c);
      }
      lineStart = c == '\n';
    }
    return sb.toString();
  }

  private static void gzip(Path file, String text) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    // No name or time in the header: the same sources give the same package bytes.
    try (OutputStream out = new GZIPOutputStream(bytes)) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    }
    Files.write(file, bytes.toByteArray());
  }
}
