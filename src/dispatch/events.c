/*
 * events.c: the public reading side of a node's event log (spot/events.h), over the internal records of
 * core/event.h that dispatch writes (put.c) and the namespace's event log (store). Records are copied out field by
 * field, so the public struct and the on-disk encoding can evolve apart; the codes and the record size are the
 * same by construction (checked below).
 */
#include <string.h>

#include "core/error.h"
#include "core/event.h"
#include "dispatch/dispatch.h"
#include "spot/events.h"

_Static_assert(SPOT_EVENT_BYTES == SPOT__EVENT_BYTES, "public and internal event record sizes differ");
_Static_assert(SPOT_EVENT_PUT == (int)SPOT__EV_PUT && SPOT_EVENT_START == (int)SPOT__EV_START &&
                   SPOT_EVENT_END == (int)SPOT__EV_END && SPOT_EVENT_FAIL == (int)SPOT__EV_FAIL,
               "public and internal event types differ");

static void to_public(const spot__event_t *e, spot_eventrec_t *out) {
  spot_eventrec_t r;
  memset(&r, 0, sizeof r);
  r.type = (spot_event_type_t)e->type;
  r.status = e->status;
  r.node = e->node;
  r.id = e->id;
  r.cause.node = e->cause_node;
  r.cause.event = e->cause_id;
  r.ref = e->ref;
  r.time_ns = e->time_ns;
  r.duration_ns = e->duration_ns;
  r.seq = e->seq;
  r.handler_id = e->handler_id;
  memcpy(r.log, e->log, sizeof r.log);
  memcpy(r.handler, e->handler, sizeof r.handler);
  memcpy(r.reason, e->reason, sizeof r.reason);
  *out = r;
}

int spot_events_range(spot_ns_t *ns, uint64_t *earliest, uint64_t *latest) {
  spot_log_t *log;
  int rc = spot__ns_events(ns, &log);
  uint64_t lo = 0, hi = 0; /* both 0 for an empty log */
  if (rc == 0)
    rc = spot_log_latest(log, &hi);
  if (rc == 0 && hi > 0)
    rc = spot_log_earliest(log, &lo);
  if (rc != 0)
    return rc;
  if (earliest)
    *earliest = lo;
  if (latest)
    *latest = hi;
  return 0;
}

int spot_events_read(spot_ns_t *ns, uint64_t id, spot_eventrec_t *out) {
  spot__event_t e;
  int rc = spot__ns_event_read(ns, id, &e);
  if (rc == 0)
    to_public(&e, out);
  return rc;
}

int spot_events_wait(spot_ns_t *ns, uint64_t after, uint64_t timeout_ns) {
  spot_log_t *log;
  int rc = spot__ns_events(ns, &log);
  return rc ? rc : spot_log_wait_newer(log, after, timeout_ns);
}

int spot_events_decode(const void *record, size_t len, spot_eventrec_t *out) {
  if (len != SPOT_EVENT_BYTES)
    return spot__fail(SPOT_EINVAL, "an event record has %u bytes, not %zu", SPOT_EVENT_BYTES, len);
  spot__event_t e;
  int rc = spot__event_decode(record, &e);
  if (rc != 0)
    return spot__fail(rc, "the event record does not decode (unknown type or version, or a damaged string)");
  to_public(&e, out);
  return 0;
}

const char *spot_events_type_name(int type) { return spot__event_type_name(type); }
