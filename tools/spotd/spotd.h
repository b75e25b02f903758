/*
 * spotd.h: what tools/spotd/main.c calls in spotd's other files (bridges.c).
 */
#ifndef SPOTD_H
#define SPOTD_H

/* Takes argv[*i] (and its value, moving *i past it) if it is a bridge option: 1 taken, 0 not a bridge option,
 * -1 a bad value (a line on stderr says why). */
int spotd_bridge_option(int argc, char **argv, int *i);
/* After parsing: 0, or -1 for options that do not go together or a bridge this build lacks (a line says why). */
int spotd_bridges_check(void);
/* Starts the bridges asked for, once the node serves dir (timeout_ms: the node's handler time limit, 0 for none;
 * workers: its worker count): 0, or -1 (a line on stderr says why). */
int spotd_bridges_start(const char *dir, int quiet, unsigned timeout_ms, unsigned workers);
/* Stops them (before the node stops), printing their counters unless quiet. */
void spotd_bridges_stop(int quiet);

/* `--metrics HOST:PORT`: serves GET /metrics (Prometheus text) for the node of dir on its own thread: 0, or -1 (a
 * line on stderr says why: a bad address, the port in use, or a build without libmicrohttpd). */
int spotd_metrics_start(const char *dir, const char *hostport);
void spotd_metrics_stop(void);
/* One scrape's text (malloc'd, *len bytes), or NULL if the status cannot be read. */
char *spotd_metrics_text(const char *dir, size_t *len);

/* The node's stepping aside for a remote check --fix or rm (aside.c; with the network). spotd_aside_init keeps
 * what restarting the node needs; spotd_aside is the server's spot_server_exclusive_fn; spotd_aside_node is the
 * node that runs now (NULL if it could not start again), to be read once the server has stopped. */
#if SPOT_HAVE_NET
#include "spot/net.h"
void spotd_aside_init(const char *dir, const spot_node_opts_t *opts, spot_node_t *node);
int spotd_aside(void *arg, spot_server_op_fn op, void *op_arg);
spot_node_t *spotd_aside_node(void);
#endif

#endif
