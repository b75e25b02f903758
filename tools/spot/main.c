/*
 * main.c: the `spot` command line: picks the namespace (-n DIR or $SPOT_DIR) and runs a subcommand.
 *
 * Every subcommand exits 0 on success and otherwise prints one line on stderr saying what went wrong and what to
 * do, and exits non-zero. Subcommands live in cmd_*.c, one file per area. A verb spot does not know itself runs the
 * program spot-VERB (as git does): first the one beside this `spot`, then one on PATH. Applications built on spot
 * (apps/vquery: `spot vquery`) plug in this way without the core command line linking their libraries.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "events.h"
#include "help.h"
#include "keygen.h"
#include "plan.h"
#include "spot.h"

typedef struct command {
  const char *name;
  spot_cli_cmd_fn fn;
} command_t;

/* The verbs. Each has a page of the same name in help_text.c (the help test checks it). */
static const command_t commands[] = {
    {"init", spot_cli_init},
    {"create", spot_cli_create},
    {"put", spot_cli_put},
    {"get", spot_cli_get},
    {"tail", spot_cli_tail},
    {"latest", spot_cli_latest},
    {"ls", spot_cli_ls},
    {"rm", spot_cli_rm},
    {"info", spot_cli_info},
    {"check", spot_cli_check},
    {"build-handler", spot_cli_build_handler},
    {"handlers", spot_cli_handlers},
    {"bind", spot_cli_bind},
    {"unbind", spot_cli_unbind},
    {"deploy", spot_cli_deploy},
    {"events", spot_cli_events},
    {"trace", spot_cli_trace},
    {"status", spot_cli_status},
    {"plan", spot_cli_plan},
    {"keygen", spot_cli_keygen},
    {"help", NULL},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out) {
  fprintf(out, "usage: spot [-n DIR] [--key FILE] [--node-key FILE|KEY] COMMAND [ARGS]\n"
               "  the namespace is -n DIR, else $SPOT_DIR; commands that take LOG also take remote names\n"
               "  spot://HOST:PORT/NAMESPACE/LOG (keys: --key/$SPOT_KEY, --node-key/$SPOT_NODE_KEY)\n\n"
               "commands (spot help COMMAND, or spot COMMAND --help, for each):\n");
  for (size_t i = 0; i < NCOMMANDS; i++) {
    const spot_help_t *h = spot_help_find(commands[i].name);
    fprintf(out, "  %-14s %s\n", commands[i].name, h ? h->summary : "");
  }
  fprintf(out, "  %-14s %s\n  %-14s %s\n", "vquery", "the media-query application (spot vquery --help)", "VERB",
          "otherwise runs spot-VERB, beside spot or on PATH");
}

const char *spot_cli_key, *spot_cli_node_key;

/* Runs spot-VERB with argv[1..] (argv[0] is the verb): beside /proc/self/exe first, then on PATH. Returns only
 * when neither could be run: 2 for an unknown verb, 1 for a program that exists but did not start. The -n and key
 * options were taken out of argv, so they are passed on through the environment. */
static int run_external(char **argv, const char *ns_dir) {
  const char *verb = argv[0];
  for (const char *c = verb; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
      return -1;
  if (ns_dir)
    setenv("SPOT_DIR", ns_dir, 1);
  if (spot_cli_key)
    setenv("SPOT_KEY", spot_cli_key, 1);
  if (spot_cli_node_key)
    setenv("SPOT_NODE_KEY", spot_cli_node_key, 1);
  char prog[64];
  snprintf(prog, sizeof prog, "spot-%s", verb);
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash && (size_t)(slash - self) + 1 + strlen(prog) < sizeof self) {
      strcpy(slash + 1, prog);
      if (access(self, X_OK) == 0) {
        argv[0] = prog;
        execv(self, argv);
        fprintf(stderr, "spot: cannot run %s: %s\n", self, strerror(errno));
        return 1;
      }
    }
  }
  argv[0] = prog;
  execvp(prog, argv);
  argv[0] = (char *)verb;
  return errno == ENOENT ? -1 : 1;
}

/* 'h' if a verb's arguments ask for help (--help or -h anywhere, but not as the value of an option that takes
 * one, such as --data -h), 'v' for --version, else 0: the verb then prints and does nothing else. */
static int asks_help(const char *verb, int argc, char **argv) {
  const spot_help_t *h = spot_help_find(verb);
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0)
      break;
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
      return 'h';
    if (strcmp(argv[i], "--version") == 0)
      return 'v';
    if (h && argv[i][0] == '-' && spot_help_takes_value(h, argv[i]))
      i++;
  }
  return 0;
}

/* Prints the page of verb (exit status 0), or says that it has none (1: a verb added without a page). */
static int print_page(const char *verb) {
  const spot_help_t *h = spot_help_find(verb);
  if (h == NULL)
    return spot_cli_fail(0, "no help page for %s (add one to tools/spot/help_text.c)", verb);
  spot_help_print(h, stdout);
  return 0;
}

/* `spot help [VERB]`, and the lists the completion and the man pages are made from (help.h). */
static int help(int argc, char **argv, const char *ns_dir) {
  if (argc < 2) {
    usage(stdout);
    return 0;
  }
  const char *a = argv[1];
  if (strcmp(a, "--verbs") == 0) {
    for (size_t i = 0; i < NCOMMANDS; i++)
      printf("%s\n", commands[i].name);
    return 0;
  }
  if (strcmp(a, "--man") == 0) {
    const char *verbs[NCOMMANDS + 1];
    for (size_t i = 0; i < NCOMMANDS; i++)
      verbs[i] = commands[i].name;
    verbs[NCOMMANDS] = NULL;
    if (argc != 3)
      return spot_cli_fail(0, "usage: spot help --man DIR");
    if (spot_help_write_man(argv[2], verbs) != 0)
      return spot_cli_fail(0, "cannot write the man pages in %s", argv[2]);
    return 0;
  }
  if (strcmp(a, "--options") == 0 || strcmp(a, "--args") == 0) {
    const spot_help_t *h = argc == 3 ? spot_help_find(argv[2]) : NULL;
    if (h == NULL)
      return 0; /* an unknown verb has no options to complete */
    if (a[2] == 'o')
      spot_help_print_options(h, stdout);
    else
      printf("%s\n", spot_help_first_arg(h));
    return 0;
  }
  if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
    a = "help";
  else if (a[0] == '-')
    return spot_cli_fail(0, "help: unknown option %s (spot help [VERB])", a);
  for (size_t i = 0; i < NCOMMANDS; i++)
    if (strcmp(a, commands[i].name) == 0)
      return print_page(a);
  if (strcmp(a, "spotd") == 0 || strcmp(a, "spot-handler") == 0)
    return print_page(a);
  /* an application's verb (spot vquery): its own --help */
  char *ext[] = {argv[1], "--help", NULL};
  int rc = run_external(ext, ns_dir);
  if (rc >= 0)
    return rc;
  fprintf(stderr, "spot: no help for '%s': it is not a command (run `spot help` for the list)\n", a);
  return 2;
}

int main(int argc, char **argv) {
  const char *ns_dir = getenv("SPOT_DIR");
  if (ns_dir && ns_dir[0] == '\0')
    ns_dir = NULL;
  /* Take -n DIR / --namespace DIR out of argv wherever it stands, except -n after a verb that has its own -n
   * (tail -n N: its page lists "-n N"; its namespace is -n before the verb, or --namespace). */
  int n = 1;
  const char *verb = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-n") == 0 && verb && spot_help_own_n(spot_help_find(verb))) {
      argv[n++] = argv[i];
      continue;
    }
    if (strcmp(argv[i], "-n") == 0 || strcmp(argv[i], "--namespace") == 0) {
      if (i + 1 >= argc)
        return spot_cli_fail(0, "%s needs a directory", argv[i]);
      ns_dir = argv[++i];
      continue;
    }
    if (strcmp(argv[i], "--key") == 0 || strcmp(argv[i], "--node-key") == 0) {
      if (i + 1 >= argc)
        return spot_cli_fail(0, "%s needs a file", argv[i]);
      *(argv[i][2] == 'k' ? &spot_cli_key : &spot_cli_node_key) = argv[i + 1];
      i++;
      continue;
    }
    if (verb == NULL && argv[i][0] != '-')
      verb = argv[i];
    argv[n++] = argv[i];
  }
  argc = n;
  argv[argc] = NULL;
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("spot %s\n", SPOT_VERSION);
    return 0;
  }
  if (strcmp(argv[1], "help") == 0)
    return help(argc - 1, argv + 1, ns_dir);
  for (size_t i = 0; i < NCOMMANDS; i++)
    if (strcmp(argv[1], commands[i].name) == 0) {
      int asked = asks_help(commands[i].name, argc - 1, argv + 1);
      if (asked == 'h')
        return print_page(commands[i].name);
      if (asked == 'v') {
        printf("spot %s\n", SPOT_VERSION);
        return 0;
      }
      return commands[i].fn(argc - 1, argv + 1, ns_dir);
    }
  int rc = run_external(argv + 1, ns_dir);
  if (rc >= 0)
    return rc;
  fprintf(stderr, "spot: unknown command '%s' (run `spot --help` for the list)\n", argv[1]);
  return 2;
}
