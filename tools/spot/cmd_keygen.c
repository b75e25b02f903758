/*
 * cmd_keygen.c: `spot keygen NAME [--dir DIR]`: a new CURVE key pair in DIR (default: the current directory) as
 * NAME.key (both keys, mode 0600: the node's or client's secret, for --key) and NAME.pub (the public key, to put in
 * a node's access file or a client's known_nodes, or to pass as --node-key). Prints the public key on stdout.
 * An existing NAME.key or NAME.pub is never overwritten. The namespace (-n) plays no part.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "keygen.h"
#include "spot.h"
#include "spot/net.h"

int spot_cli_keygen(int argc, char **argv, const char *ns_dir) {
  const char *name = NULL, *dir = ".";
  int dashdash = 0;
  for (int i = 1; i < argc; i++) {
    if (dashdash) {
      if (name != NULL)
        return spot_cli_fail(0, "keygen: unexpected '%s' (usage: spot keygen NAME [--dir DIR])", argv[i]);
      name = argv[i];
    } else if (!dashdash && strcmp(argv[i], "--") == 0) {
      dashdash = 1;
    } else if (strcmp(argv[i], "--dir") == 0) {
      if (i + 1 >= argc)
        return spot_cli_fail(0, "keygen: --dir needs a directory");
      dir = argv[++i];
    } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      printf("usage: spot keygen NAME [--dir DIR]\n"
             "  writes DIR/NAME.key (secret, mode 0600) and DIR/NAME.pub, prints the public key\n");
      return 0;
    } else if (name == NULL && (argv[i][0] != '-' || argv[i][1] == '\0')) {
      name = argv[i];
    } else if (name == NULL) {
      return spot_cli_fail(0, "keygen: unknown option '%s' (usage: spot keygen NAME [--dir DIR])", argv[i]);
    } else {
      return spot_cli_fail(0, "keygen: unexpected '%s' (usage: spot keygen NAME [--dir DIR])", argv[i]);
    }
  }
  if (name == NULL)
    return spot_cli_fail(0, "keygen: which name? (usage: spot keygen NAME [--dir DIR])");
  char pub[SPOT_KEY_TEXT];
  int rc = spot_keygen(dir, name, pub);
  if (rc != 0)
    return spot_cli_fail(rc, "keygen %s", name);
  printf("%s\n", pub);
  return 0;
}
