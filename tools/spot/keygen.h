/*
 * tools/spot/keygen.h: `spot keygen NAME [--dir DIR]` (cmd_keygen.c), which makes a CURVE key pair for a node or
 * a client of the network.
 */
#ifndef SPOT_CLI_KEYGEN_H
#define SPOT_CLI_KEYGEN_H

/* Writes DIR/NAME.key (secret, mode 0600) and DIR/NAME.pub, prints the public key; refuses to overwrite. */
int spot_cli_keygen(int argc, char **argv, const char *ns_dir);

#endif
