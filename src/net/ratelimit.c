/*
 * ratelimit.c: the refusal limiter (see net/ratelimit.h): token buckets kept as time credit, per source and shared.
 *
 * A bucket holds credit in nanoseconds, at most burst * every; time adds credit, and a record spends `every`. The
 * per-source table is a small array searched by name; a new source takes a free slot or the one seen least
 * recently (it then starts with a full bucket, which the shared bucket still bounds).
 */
#include "net/ratelimit.h"

#include <string.h>

void spot__ratelimit_init(spot__ratelimit_t *rl, uint64_t now_ns) {
  memset(rl, 0, sizeof *rl);
  rl->all.credit_ns = SPOT__RL_ALL_BURST * SPOT__RL_ALL_EVERY_NS;
  rl->all.last_ns = now_ns;
  rl->report_ns = now_ns;
  rl->started = 1;
}

/* Brings b's credit up to now (capped at burst * every); 1 if it holds a token, which is then spent. */
static int bucket_take(spot__rl_bucket_t *b, uint64_t burst, uint64_t every, uint64_t now, int spend) {
  uint64_t cap = burst * every;
  if (now > b->last_ns) {
    uint64_t gain = now - b->last_ns;
    b->credit_ns = gain >= cap - b->credit_ns ? cap : b->credit_ns + gain;
  }
  b->last_ns = now > b->last_ns ? now : b->last_ns;
  if (b->credit_ns < every)
    return 0;
  if (spend)
    b->credit_ns -= every;
  return 1;
}

int spot__ratelimit_take(spot__ratelimit_t *rl, const char *source, uint64_t now_ns) {
  if (!rl->started)
    spot__ratelimit_init(rl, now_ns);
  char name[sizeof rl->src[0].name];
  size_t n = strlen(source ? source : "");
  if (n >= sizeof name)
    n = sizeof name - 1;
  memcpy(name, source ? source : "", n);
  name[n] = '\0';
  int slot = -1, free_slot = -1, lru = -1;
  for (int i = 0; i < SPOT__RL_SOURCES; i++) {
    if (rl->src[i].name[0] == '\0') {
      if (free_slot < 0)
        free_slot = i;
    } else if (strcmp(rl->src[i].name, name) == 0) {
      slot = i;
      break;
    } else if (lru < 0 || rl->src[i].b.last_ns < rl->src[lru].b.last_ns) {
      lru = i;
    }
  }
  if (slot < 0) { /* a new source: a free slot, or the one seen least recently */
    slot = free_slot >= 0 ? free_slot : lru;
    memcpy(rl->src[slot].name, name, n + 1);
    rl->src[slot].b.credit_ns = SPOT__RL_SOURCE_BURST * SPOT__RL_SOURCE_EVERY_NS;
    rl->src[slot].b.last_ns = now_ns;
  }
  /* spend a token only when both buckets have one */
  int ok = bucket_take(&rl->src[slot].b, SPOT__RL_SOURCE_BURST, SPOT__RL_SOURCE_EVERY_NS, now_ns, 0) &&
           bucket_take(&rl->all, SPOT__RL_ALL_BURST, SPOT__RL_ALL_EVERY_NS, now_ns, 0);
  if (ok) {
    bucket_take(&rl->src[slot].b, SPOT__RL_SOURCE_BURST, SPOT__RL_SOURCE_EVERY_NS, now_ns, 1);
    bucket_take(&rl->all, SPOT__RL_ALL_BURST, SPOT__RL_ALL_EVERY_NS, now_ns, 1);
  } else {
    rl->suppressed++;
  }
  return ok;
}

int spot__ratelimit_report(spot__ratelimit_t *rl, uint64_t now_ns, uint64_t *count) {
  if (!rl->started)
    spot__ratelimit_init(rl, now_ns);
  if (rl->suppressed == 0 || now_ns < rl->report_ns || now_ns - rl->report_ns < SPOT__RL_PERIOD_NS)
    return 0;
  *count = rl->suppressed;
  rl->suppressed = 0;
  rl->report_ns = now_ns;
  return 1;
}
