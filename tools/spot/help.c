/*
 * help.c: renders the pages of help_text.c: as text for --help, as troff for the man pages, and as word lists for
 * the shell completion (help.h).
 */
#include <stdio.h>
#include <string.h>

#include "help.h"
#include "spot.h"

/* Prints the "OPTION ARG\tmeaning" or "CODE\tmeaning" lines of field as two aligned columns. */
static void print_columns(FILE *out, const char *field) {
  size_t width = 0;
  for (const char *l = field; *l;) {
    size_t n = strcspn(l, "\t\n");
    if (n > width)
      width = n;
    l += strcspn(l, "\n");
    l += *l == '\n';
  }
  for (const char *l = field; *l;) {
    size_t n = strcspn(l, "\t\n"), end = strcspn(l, "\n");
    const char *rest = l[n] == '\t' ? l + n + 1 : l + n;
    fprintf(out, "  %-*.*s  %.*s\n", (int)width, (int)n, l, (int)(l + end - rest), rest);
    l += end;
    l += *l == '\n';
  }
}

/* Prints text wrapped at 100 columns with the given indent, keeping the blank lines between paragraphs. */
static void print_wrapped(FILE *out, const char *text, int indent) {
  int col = 0;
  for (const char *p = text; *p;) {
    if (*p == '\n') {
      if (col)
        fputc('\n', out);
      if (p[1] == '\n')
        fputc('\n', out), p++;
      col = 0;
      p++;
      continue;
    }
    if (*p == ' ') {
      p++;
      continue;
    }
    int n = (int)strcspn(p, " \n");
    if (col && col + 1 + n > 100)
      fputc('\n', out), col = 0;
    if (col == 0)
      col = fprintf(out, "%*s", indent, "");
    else
      fputc(' ', out), col++;
    col += fprintf(out, "%.*s", n, p);
    p += n;
  }
  if (col)
    fputc('\n', out);
}

static const char common_exit[] =
    "0\tsuccess\n1\tit failed: one line on stderr says what went wrong and what to do (a wrong argument too)\n"
    "2\tno command, or an unknown one\n";

void spot_help_print(const spot_help_t *h, FILE *out) {
  fprintf(out, "%s%s%s: %s\n\nusage:\n", strncmp(h->name, "spot", 4) ? "spot " : "", h->name,
          strncmp(h->name, "spot", 4) ? "" : "", h->summary);
  for (const char *l = h->synopsis; *l;) {
    size_t n = strcspn(l, "\n");
    fprintf(out, "  %.*s\n", (int)n, l);
    l += n + (l[n] == '\n');
  }
  fputc('\n', out);
  print_wrapped(out, h->text, 2);
  if (h->options && h->options[0]) {
    fprintf(out, "\noptions:\n");
    print_columns(out, h->options);
  }
  if (h->examples && h->examples[0]) {
    fprintf(out, "\nexamples:\n");
    for (const char *l = h->examples; *l;) {
      size_t n = strcspn(l, "\n");
      fprintf(out, "  %.*s\n", (int)n, l);
      l += n + (l[n] == '\n');
    }
  }
  const char *ex = h->exit ? h->exit : common_exit;
  if (ex[0]) {
    fprintf(out, "\nexit status:\n");
    print_columns(out, ex);
  }
}

int spot_help_takes_value(const spot_help_t *h, const char *opt) {
  size_t len = strlen(opt);
  for (const char *l = h->options ? h->options : ""; *l;) {
    size_t n = strcspn(l, "\t\n");
    if (n > len && strncmp(l, opt, len) == 0 && l[len] == ' ')
      return 1;
    l += strcspn(l, "\n");
    l += *l == '\n';
  }
  return 0;
}

int spot_help_own_n(const spot_help_t *h) {
  if (h == NULL || h->options == NULL)
    return 0;
  for (const char *l = h->options; *l;) {
    if (strncmp(l, "-n ", 3) == 0 && strncmp(l, "-n DIR", 6) != 0)
      return 1;
    l += strcspn(l, "\n");
    l += *l == '\n';
  }
  return 0;
}

void spot_help_print_options(const spot_help_t *h, FILE *out) {
  for (const char *l = h->options ? h->options : ""; *l;) {
    size_t n = strcspn(l, " \t\n");
    if (l[0] == '-' && n > 1)
      fprintf(out, "%.*s\n", (int)n, l);
    l += strcspn(l, "\n");
    l += *l == '\n';
  }
  if (strncmp(h->name, "spot", 4) != 0)
    fprintf(out, "--help\n");
}

const char *spot_help_first_arg(const spot_help_t *h) {
  const char *s = h->synopsis;
  /* skip the program and the verb: "spot put LOG ..." -> "LOG ..." */
  for (int words = strncmp(h->name, "spot", 4) ? 2 : 1; words > 0 && *s; words--) {
    s += strcspn(s, " \n");
    s += *s == ' ';
  }
  while (*s == '[')
    s++;
  if (strncmp(s, "LOG", 3) == 0 || strncmp(s, "spot://", 7) == 0)
    return "log";
  if (strncmp(s, "FILE", 4) == 0)
    return "file";
  if (strncmp(s, "DIR", 3) == 0)
    return "dir";
  if (strncmp(s, "NAME", 4) == 0)
    return "name";
  if (strncmp(s, "VERB", 4) == 0)
    return "verb";
  return "";
}

/* ---- troff ---- */

/* Writes text with troff's specials escaped: backslashes, a leading dot or quote, and '-' as a minus sign. */
static void troff(FILE *out, const char *text, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char c = text[i];
    if ((i == 0 || text[i - 1] == '\n') && (c == '.' || c == '\''))
      fputs("\\&", out);
    if (c == '\\')
      fputs("\\e", out);
    else if (c == '-')
      fputs("\\-", out);
    else
      fputc(c, out);
  }
}

static void troff_str(FILE *out, const char *text) { troff(out, text, strlen(text)); }

/* Paragraphs: each blank line becomes .PP. */
static void troff_text(FILE *out, const char *text) {
  for (const char *p = text; *p;) {
    size_t n = strcspn(p, "\n");
    if (n == 0)
      fputs(".PP\n", out);
    else {
      troff(out, p, n);
      fputc('\n', out);
    }
    p += n + (p[n] == '\n');
  }
}

static void troff_columns(FILE *out, const char *field) {
  for (const char *l = field; *l;) {
    size_t n = strcspn(l, "\t\n"), end = strcspn(l, "\n");
    const char *rest = l[n] == '\t' ? l + n + 1 : l + n;
    fputs(".TP\n.B ", out);
    troff(out, l, n);
    fputc('\n', out);
    troff(out, rest, (size_t)(l + end - rest));
    fputc('\n', out);
    l += end;
    l += *l == '\n';
  }
}

static void troff_lines(FILE *out, const char *lines) {
  fputs(".PP\n.RS\n.nf\n", out);
  troff_str(out, lines);
  fputs(".fi\n.RE\n", out);
}

/* One page's body (synopsis, text, options, examples). level: 0 top-level sections, 1 subsections of spot(1). */
static void troff_page(FILE *out, const spot_help_t *h, int sub) {
  if (sub) {
    fputs(".SS ", out);
    troff_str(out, h->name);
    fputs("\n", out);
  } else {
    fputs(".SH SYNOPSIS\n", out);
  }
  troff_lines(out, h->synopsis);
  if (!sub)
    fputs(".SH DESCRIPTION\n", out);
  else
    fputs(".PP\n", out);
  troff_text(out, h->text);
  if (h->options && h->options[0]) {
    fputs(sub ? ".PP\nOptions:\n" : ".SH OPTIONS\n", out);
    troff_columns(out, h->options);
  }
  if (h->examples && h->examples[0]) {
    fputs(sub ? ".PP\nExamples:\n" : ".SH EXAMPLES\n", out);
    troff_lines(out, h->examples);
  }
  if (sub && h->exit) {
    fputs(".PP\nExit status:\n", out);
    troff_columns(out, h->exit);
  }
}

static FILE *open_page(const char *dir, const char *file) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  FILE *f = fopen(path, "w");
  if (f == NULL)
    perror(path);
  return f;
}

static int close_page(FILE *f) {
  int bad = ferror(f);
  return (fclose(f) != 0 || bad) ? -1 : 0;
}

static void troff_header(FILE *out, const char *name, int section, const char *title, const char *what) {
  fprintf(out, ".\\\" generated by `spot help --man` from tools/spot/help_text.c: edit that, not this\n");
  fprintf(out, ".TH %s %d \"\" \"spot %s\" \"%s\"\n.SH NAME\n", name, section, SPOT_VERSION, title);
  troff_str(out, strchr(name, '-') ? "spot-handler" : name);
  fputs(" \\- ", out);
  troff_str(out, what);
  fputc('\n', out);
}

int spot_help_write_man(const char *dir, const char *const *verbs) {
  FILE *f = open_page(dir, "spot.1");
  if (f == NULL)
    return -1;
  troff_header(f, "spot", 1, "spot manual", "the command line of spot, a Serverless Platform Of Things");
  fputs(".SH SYNOPSIS\n.B spot\n[\\-n DIR] [\\-\\-key FILE] [\\-\\-node\\-key FILE|KEY] COMMAND [ARGS]\n"
        ".SH DESCRIPTION\n",
        f);
  troff_text(f, "spot works on a namespace, a directory of durable append-only logs: -n DIR, else $SPOT_DIR. "
                "Commands that take LOG also take a remote name spot://HOST:PORT/NAMESPACE/LOG (where the page "
                "says so), reached over ZeroMQ with CURVE with the keys of --key and --node-key. `spot VERB --help` "
                "prints a command's page; a verb spot does not know runs the program spot-VERB beside spot or on "
                "PATH (spot vquery).\n");
  fputs(".SH COMMANDS\n", f);
  for (int i = 0; verbs[i]; i++) {
    const spot_help_t *h = spot_help_find(verbs[i]);
    if (h)
      troff_page(f, h, 1);
  }
  fputs(".SH EXIT STATUS\n", f);
  troff_columns(f, common_exit);
  fputs(".SH ENVIRONMENT\n", f);
  troff_columns(f, "SPOT_DIR\tthe namespace when -n is not given\n"
                   "SPOT_KEY\tthe client's key pair (--key)\n"
                   "SPOT_NODE_KEY\tthe node's public key (--node-key)\n"
                   "SPOT_TIMEOUT_MS\thow long a remote call may take\n"
                   "CC\tthe compiler build-handler and deploy use (default cc)\n");
  fputs(".SH SEE ALSO\n.BR spotd (8),\n.BR spot\\-handler (7)\n", f);
  if (close_page(f) != 0)
    return -1;

  const spot_help_t *d = spot_help_find("spotd");
  if ((f = open_page(dir, "spotd.8")) == NULL)
    return -1;
  troff_header(f, "spotd", 8, "spot manual", d->summary);
  troff_page(f, d, 0);
  fputs(".SH EXIT STATUS\n", f);
  troff_columns(f, d->exit);
  fputs(".SH SEE ALSO\n.BR spot (1),\n.BR spot\\-handler (7)\n", f);
  if (close_page(f) != 0)
    return -1;

  const spot_help_t *a = spot_help_find("spot-handler");
  if ((f = open_page(dir, "spot-handler.7")) == NULL)
    return -1;
  troff_header(f, "spot-handler", 7, "spot manual", a->summary);
  troff_page(f, a, 0);
  fputs(".SH SEE ALSO\n.BR spot (1),\n.BR spotd (8)\n", f);
  return close_page(f);
}
