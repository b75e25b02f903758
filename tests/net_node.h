/*
 * tests/net_node.h: the node under test of the network tests (tests/net_*_test.c): one spotd serving namespace
 * `home` (log `temp`) over ZeroMQ with CURVE on 127.0.0.1, the keys of its clients (alice: get, put, create; bob:
 * get; mallory: not listed), its access file, clients, and raw CURVE sockets for frames the client library never
 * sends. Each test binary has one node, started by the first test that calls net_up and killed at exit.
 */
#ifndef SPOT_TEST_NET_NODE_H
#define SPOT_TEST_NET_NODE_H

#include <stdint.h>
#include <sys/types.h>

#include "spot/net.h"

/* Where the node lives: root holds the keys (NAME.key, NAME.pub) and spotd.log (spotd's stderr, appended to by every
 * spotd started); ns_dir is the namespace; url names log `temp` on the node; endpoint is "127.0.0.1:port". port + 1
 * and port + 2 are left for a node that is down and a second spotd. spotd_pid is the running spotd, or 0. */
typedef struct net_node {
  char root[4200], ns_dir[4300], spotd_log[4300], url[256], endpoint[128];
  int port;
  pid_t spotd_pid;
} net_node_t;
extern net_node_t net;

/* The node up: on the first call, makes the keys, the namespace and the access file (alice, bob) in a new scratch
 * directory named by tag; then starts spotd if none runs, and waits (at most 10 s) until it answers alice. 0, or -1
 * (with a line on stderr). */
int net_up(const char *tag);
/* Starts spotd on the node (its pid in net.spotd_pid) without waiting for it; net_kill_spotd kills it (SIGKILL) and
 * reaps it, and runs at exit. */
void net_start_spotd(void);
void net_kill_spotd(void);
/* The value of environment variable name, or "" (SPOTD_BIN: the spotd under test). */
const char *net_env(const char *name);

/* A client with the key of `who` (alice, bob, mallory) and the given time limit, or NULL (the reason on stderr). The
 * caller frees it with spot_remote_free. */
spot_remote_t *net_client(const char *who, uint32_t timeout_ms);
/* Waits (at most 10 s) until the node answers r: 0, or -1. */
int net_wait_up(spot_remote_t *r);
/* The public key of `who` (40 characters), or "" if it cannot be read; static storage, valid for the next 3 calls. */
char *net_read_pub(const char *name);

/* Writes the access file (text as it is), then waits past the node's bound for taking it into account
 * (net_access_settle): every request after this sees the new rules. */
void net_write_access(const char *text);
/* The access file of most tests: alice (get, put, create), bob (get), then the lines in extra. */
void net_set_access(const char *extra);
/* Waits past SPOT__NET_ACCESS_RECHECK_NS: every request after this sees the access file as it is now. */
void net_access_settle(void);

/* A raw DEALER socket in ctx with CURVE key pair (pub, sec) connected to the node, no reconnection after a failure;
 * *mon gets a PAIR socket receiving every event of its monitor (200 ms receive time-out). net_raw_close closes both. */
void *net_raw_socket(void *ctx, const char *pub, const char *sec, void **mon);
void net_raw_close(void *s, void *mon);
/* Waits (at most limit_ms, in 200 ms steps) for monitor event `want`: 1 if it came, 0 if `other` came first or the
 * time ran out. */
int net_wait_event(void *mon, int want, int other, int limit_ms);
/* Counts the node's fail events from event id `after` on whose reason holds `what`; *last (if not NULL) gets the
 * newest event id. 0 if the namespace cannot be opened. */
unsigned net_count_events(uint64_t after, const char *what, uint64_t *last);

#endif
