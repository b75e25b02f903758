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
#include "keygen.h"
#include "plan.h"
#include "spot.h"

typedef struct command {
  const char *name;
  spot_cli_cmd_fn fn;
  const char *usage;
} command_t;

static const command_t commands[] = {
    {"init", spot_cli_init, "init [DIR]                          make DIR (or the -n namespace) a namespace"},
    {"create", spot_cli_create,
     "create LOG --size BYTES --history N [--sync none|batch|always] [--batch-us US]"},
    {"put", spot_cli_put, "put LOG [--handler NAME] [--data STRING | --file PATH | -]  append; prints the seqno"},
    {"get", spot_cli_get, "get LOG SEQNO|latest               element bytes to stdout"},
    {"latest", spot_cli_latest, "latest LOG                          newest sequence number (0 if empty)"},
    {"ls", spot_cli_ls, "ls                                  logs with size, history, latest"},
    {"info", spot_cli_info, "info LOG [--json]                   a log's geometry and state"},
    {"check", spot_cli_check, "check LOG [--fix]                   verify (and repair) a log"},
    {"build-handler", spot_cli_build_handler, "build-handler FILE.c|FILE.so       compile, install, register"},
    {"handlers", spot_cli_handlers, "handlers                            the registered handlers"},
    {"deploy", spot_cli_deploy, "deploy FILE.c|FILE.so spot://HOST:PORT/NS   install a handler on a running node"},
    {"events", spot_cli_events, "events [spot://H:P/NS] [--follow] [--json]  a node's event log"},
    {"trace", spot_cli_trace, "trace LOG SEQNO [--json|--dot]      the causal tree of an element"},
    {"plan", spot_cli_plan, "plan VERB [...]                     energy/billing planner (spot plan --help)"},
    {"keygen", spot_cli_keygen, "keygen NAME [--dir DIR]             CURVE key pair: NAME.key (0600), NAME.pub"},
};

static void usage(FILE *out) {
  fprintf(out, "usage: spot [-n DIR] [--key FILE] [--node-key FILE|KEY] COMMAND [ARGS]\n"
               "  the namespace is -n DIR, else $SPOT_DIR; put, get, latest, info and create also take remote\n"
               "  names spot://HOST:PORT/NAMESPACE/LOG (keys: --key/$SPOT_KEY, --node-key/$SPOT_NODE_KEY)\n\n"
               "commands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(out, "  spot %s\n", commands[i].usage);
  fprintf(out, "  spot vquery VERB [...]              the media-query application (spot vquery --help)\n"
               "  spot VERB ...                       otherwise runs spot-VERB, beside spot or on PATH\n");
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

int main(int argc, char **argv) {
  const char *ns_dir = getenv("SPOT_DIR");
  if (ns_dir && ns_dir[0] == '\0')
    ns_dir = NULL;
  /* Take -n DIR / --namespace DIR out of argv wherever it stands. */
  int n = 1;
  for (int i = 1; i < argc; i++) {
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
    argv[n++] = argv[i];
  }
  argc = n;
  argv[argc] = NULL;
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("spot %s\n", SPOT_VERSION);
    return 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(argv[1], commands[i].name) == 0)
      return commands[i].fn(argc - 1, argv + 1, ns_dir);
  int rc = run_external(argv + 1, ns_dir);
  if (rc >= 0)
    return rc;
  fprintf(stderr, "spot: unknown command '%s' (run `spot --help` for the list)\n", argv[1]);
  return 2;
}
