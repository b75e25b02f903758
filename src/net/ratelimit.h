/*
 * net/ratelimit.h: how often a node records refusals, so that strangers cannot flood its event log.
 *
 * Every refusal (a key refused at the handshake, a request refused by the access file) is written to the node's
 * event log and its own log. Those writes cost the node, and the event log is a ring: a stranger refusing itself
 * in a loop would push out the END events that recovery relies on. So each refusal first asks this limiter, which
 * is two token buckets: one per source (the client's key, or its address at the handshake) and one for all
 * sources together (a stranger can make new keys and addresses at will). A refusal is recorded only when both have
 * a token; the others are counted, and once per period the count is reported in one line and one event.
 *
 * Bounds (the defaults below): a source gets SPOT__RL_SOURCE_BURST records at once and then one per
 * SPOT__RL_SOURCE_EVERY_NS; all sources together SPOT__RL_ALL_BURST at once and one per SPOT__RL_ALL_EVERY_NS; plus
 * one summary per SPOT__RL_PERIOD_NS. So over any T seconds at most ALL_BURST + T / ALL_EVERY + T / PERIOD + 1
 * refusal events are written, whoever sends.
 *
 * Pure: the caller passes the time (monotonic ns), so tests need no clock. Not thread-safe: the caller serialises.
 */
#ifndef SPOT_NET_RATELIMIT_H
#define SPOT_NET_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#define SPOT__RL_SOURCES 64                       /* sources remembered; the least recently seen is forgotten */
#define SPOT__RL_SOURCE_BURST 5u                  /* records a source may cause at once */
#define SPOT__RL_SOURCE_EVERY_NS 10000000000ull   /* then one per 10 s */
#define SPOT__RL_ALL_BURST 20u                    /* records all sources together may cause at once */
#define SPOT__RL_ALL_EVERY_NS 1000000000ull       /* then one per second */
#define SPOT__RL_PERIOD_NS 60000000000ull         /* a count of what was not recorded: at most once a minute */

typedef struct spot__rl_bucket {
  uint64_t credit_ns; /* time credit: a record costs `every`, the credit grows with time up to burst * every */
  uint64_t last_ns;   /* when the credit was last brought up to date */
} spot__rl_bucket_t;

typedef struct spot__ratelimit {
  struct {
    char name[48]; /* the source ("" when unused) */
    spot__rl_bucket_t b;
  } src[SPOT__RL_SOURCES];
  spot__rl_bucket_t all;
  uint64_t suppressed;     /* refusals not recorded since the last report */
  uint64_t report_ns;      /* when the last report was made (or the limiter started) */
  int started;
} spot__ratelimit_t;

/* A limiter with full buckets, started at now_ns. */
void spot__ratelimit_init(spot__ratelimit_t *rl, uint64_t now_ns);

/* 1 if a refusal from source (any text; only its first 47 bytes count) may be recorded now, taking a token from
 * its bucket and from the shared one; else 0, and the refusal is counted as suppressed. */
int spot__ratelimit_take(spot__ratelimit_t *rl, const char *source, uint64_t now_ns);

/* 1 when refusals were suppressed and at least SPOT__RL_PERIOD_NS passed since the last report: *count gets how
 * many (the count restarts from 0). Else 0. */
int spot__ratelimit_report(spot__ratelimit_t *rl, uint64_t now_ns, uint64_t *count);

#endif
