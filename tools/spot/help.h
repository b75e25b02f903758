/*
 * tools/spot/help.h: the one source of spot's help: a table of pages (one per `spot` verb, one for spotd, one for
 * the handler API) compiled into spot and spotd. `spot help VERB`, `spot VERB --help` and `spotd --help` print a
 * page as text; `spot help --man DIR` writes the man pages spot(1), spotd(8) and spot-handler(7) from the same
 * table (the build does, and installs them); `spot help --verbs` / `--options VERB` / `--args VERB` feed the bash
 * completion (tools/completion/spot.bash) and the help test.
 */
#ifndef SPOT_CLI_HELP_H
#define SPOT_CLI_HELP_H

#include <stdio.h>

/* One page. Every field is static text; multi-line fields hold lines ending in '\n'. */
typedef struct spot_help {
  const char *name;     /* the verb ("put"), or "spotd", or "spot-handler" */
  const char *synopsis; /* usage lines, each starting with the program: "spot put LOG ...\n" */
  const char *summary;  /* one line, no full stop */
  const char *text;     /* paragraphs (lines; an empty line between paragraphs) */
  const char *options;  /* "OPTION ARG\tmeaning\n" lines; ARG in capitals means the option takes a value */
  const char *examples; /* command lines, "# comment" allowed after the command */
  const char *exit;     /* "CODE\tmeaning\n" lines; NULL: the common exit status of spot's verbs */
} spot_help_t;

/* The page named name, or NULL. */
const spot_help_t *spot_help_find(const char *name);

/* Prints page h as text to out (what --help shows). */
void spot_help_print(const spot_help_t *h, FILE *out);

/* 1 if option opt of page h takes a value (its line names an ARG after it), else 0. */
int spot_help_takes_value(const spot_help_t *h, const char *opt);

/* Writes spot.1, spotd.8 and spot-handler.7 into dir (which must exist). verbs: the `spot` verbs in the order of
 * the command table, NULL-terminated. 0, or -1 with a line on stderr. */
int spot_help_write_man(const char *dir, const char *const *verbs);

/* 1 if page h (may be NULL) has its own -n option ("-n N", as tail), which then is not the namespace's. */
int spot_help_own_n(const spot_help_t *h);

/* The option names of page h, one per line (for completion). */
void spot_help_print_options(const spot_help_t *h, FILE *out);

/* The kind of page h's first operand, for completion: "log", "file", "dir", "name", "verb" or "" (none). */
const char *spot_help_first_arg(const spot_help_t *h);

#endif
