/*
 * causes.c: the put event of an element, found by following the node's event log forward (spot/events.h), so a
 * bridge can send an element's cause with it. A put appends its element first and writes its put event just after
 * (dispatch/life.c), so a reader that sees a new element may wait a moment for its event.
 */
#include <string.h>
#include <stdio.h>

#include "bridge/bridge.h"
#include "platform/platform.h"

void spot_bridge_causes_init(spot_bridge_causes_t *c, spot_ns_t *ns, const char *log) {
  memset(c, 0, sizeof *c);
  c->ns = ns;
  snprintf(c->log, sizeof c->log, "%s", log);
  uint64_t earliest = 0;
  if (spot_events_range(ns, &earliest, NULL) == 0 && earliest > 0)
    c->cursor = earliest - 1;
}

/* Reads the events after the cursor up to the newest, remembering the put events of c's log; stops before a put
 * event that would push element `want` out of the ring (it is read when the reader gets that far). */
static void scan(spot_bridge_causes_t *c, uint64_t want) {
  uint64_t earliest = 0, latest = 0;
  if (spot_events_range(c->ns, &earliest, &latest) != 0)
    return;
  if (earliest > 0 && c->cursor + 1 < earliest)
    c->cursor = earliest - 1; /* the ring moved past us: those events are gone */
  for (uint64_t id = c->cursor + 1; id <= latest; id++) {
    spot_eventrec_t e;
    int rc = spot_events_read(c->ns, id, &e);
    if (rc == SPOT_ENOTYET)
      break; /* being written: read it next time */
    int ours = rc == 0 && e.type == SPOT_EVENT_PUT && strcmp(e.log, c->log) == 0;
    if (ours && e.seq >= want + SPOT_BRIDGE_CAUSES)
      break;
    c->cursor = id;
    if (!ours)
      continue;
    size_t i = e.seq % SPOT_BRIDGE_CAUSES;
    c->ring[i].seq = e.seq;
    c->ring[i].node = e.node;
    c->ring[i].event = e.id;
    if (e.seq > c->max_seen)
      c->max_seen = e.seq;
  }
}

int spot_bridge_causes_find(spot_bridge_causes_t *c, uint64_t seq, uint64_t wait_ns, spot_cause_t *out) {
  if (c->missed && c->max_seen <= c->missed_seen)
    wait_ns = 0; /* the last wait found nothing, and no put event of this log came since: raw appends, likely */
  uint64_t deadline = spot__now_ns() + wait_ns;
  for (;;) {
    size_t i = seq % SPOT_BRIDGE_CAUSES;
    if (c->ring[i].seq == seq && seq != 0) {
      out->node = c->ring[i].node;
      out->event = c->ring[i].event;
      return 0;
    }
    uint64_t before = c->cursor;
    scan(c, seq);
    if (c->ring[i].seq == seq && seq != 0)
      continue;
    if (c->max_seen >= seq)
      return SPOT_ENOTFOUND; /* its event went by (remembered no longer), or it never had one */
    uint64_t now = spot__now_ns();
    if (now >= deadline || (c->cursor == before && spot_events_wait(c->ns, c->cursor, deadline - now) != 0)) {
      c->missed = 1;
      c->missed_seen = c->max_seen;
      return SPOT_ENOTFOUND;
    }
    c->missed = 0;
  }
}
