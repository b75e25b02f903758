/*
 * apps/vquery/commands.h: the verbs of `spot vquery` (the program spot-vquery, which `spot vquery` runs). Each verb
 * takes its own argv (argv[0] is the verb's name) and returns the process exit status: 0 on success, 1 with one line
 * on stderr saying what went wrong and what to do, 2 for a usage error. `--help` prints the verb's usage and exits 0.
 */
#ifndef VQUERY_COMMANDS_H
#define VQUERY_COMMANDS_H

int vq_cmd_library(int argc, char **argv);   /* library build --train DIR --images DIR --out FILE.vql (library_cmd.c) */
int vq_cmd_match(int argc, char **argv);     /* match FILE.vql IMAGE... [--top K] [--json] (library_cmd.c) */
int vq_cmd_device(int argc, char **argv);     /* device --ns DIR --listen H:P --key FILE ... (device.c) */
int vq_cmd_aggregator(int argc, char **argv); /* aggregator --ns DIR --cloud URL ... (aggregator.c) */
int vq_cmd_run(int argc, char **argv);        /* run --devices N --intervals K ... : the experiment (run.c) */

#endif
