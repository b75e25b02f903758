/*
 * apps/vquery/main.c: spot-vquery, the media-query application's command line (`spot vquery VERB ...`). It only
 * picks the verb; each verb lives in its own file and is declared in commands.h.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"

typedef struct verb {
  const char *name;
  int (*fn)(int argc, char **argv);
  const char *usage;
} verb_t;

static const verb_t verbs[] = {
    {"library", vq_cmd_library, "library build --train DIR --images DIR --out FILE.vql [--model FILE]"},
    {"match", vq_cmd_match, "match FILE.vql IMAGE... [--top K] [--json]"},
    {"device", vq_cmd_device,
     "device --ns DIR --listen HOST:PORT --key FILE --index I --aggregator spot://H:P/NS/inbox --library FILE.vql "
     "--images DIR --interval-ms T --start-ns T0 --intervals K [--dist D --mu BITS] [--rho BITS] ..."},
    {"aggregator", vq_cmd_aggregator,
     "aggregator --ns DIR --listen HOST:PORT --key FILE --cloud spot://H:P/NS --interval-ms T --start-ns T0 "
     "--intervals K"},
    {"run", vq_cmd_run,
     "run --devices N --intervals K --interval-ms T [--dist D --mu BITS [--alpha A]] --rho BITS "
     "--quota BITS|optimal|adhoc|compare (--data DIR | --library FILE.vql --images DIR) [--json] [--plot DIR]"},
};

static void usage(FILE *out) {
  fprintf(out, "usage: spot vquery VERB [ARGS]   (VERB --help for each verb's options)\n\nverbs:\n");
  for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
    fprintf(out, "  spot vquery %s\n", verbs[i].usage);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
    usage(stdout);
    return 0;
  }
  for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
    if (strcmp(argv[1], verbs[i].name) == 0)
      return verbs[i].fn(argc - 1, argv + 1);
  fprintf(stderr, "spot vquery: unknown verb '%s' (run `spot vquery --help` for the list)\n", argv[1]);
  return 2;
}
