/*
 * events.c: a node's event log: writing and reading its internal records (core/event.h; dispatch and the network
 * write them) and the public reading side (spot/events.h). Records are copied out to the public struct field by
 * field, so it and the on-disk encoding can evolve apart; the codes and the record size are the same by
 * construction (checked below).
 */
#include <string.h>

#include "core/error.h"
#include "core/event.h"
#include "dispatch/dispatch.h"
#include "spot/events.h"

_Static_assert(SPOT_EVENT_BYTES == SPOT__EVENT_BYTES && SPOT_EVENT_V1_BYTES == SPOT__EVENT_V1_BYTES,
               "public and internal event record sizes differ");
_Static_assert(sizeof(((spot_eventrec_t *)0)->reason) == sizeof(((spot__event_t *)0)->reason), "reason sizes differ");
_Static_assert(SPOT_EVENT_PUT == (int)SPOT__EV_PUT && SPOT_EVENT_START == (int)SPOT__EV_START &&
                   SPOT_EVENT_END == (int)SPOT__EV_END && SPOT_EVENT_FAIL == (int)SPOT__EV_FAIL,
               "public and internal event types differ");

int spot__events_append(spot_ns_t *ns, spot__event_t *e, uint64_t *id) {
  spot_log_t *events;
  int rc = spot__nsctx_events(ns, &events);
  if (rc != 0)
    return rc;
  e->node = spot_ns_node_id(ns);
  if (e->time_ns == 0)
    e->time_ns = spot__wall_ns();
  uint8_t rec[SPOT__EVENT_BYTES];
  uint32_t bytes = spot__log_elem_size(events); /* an event log made before version 2 keeps version-1 records */
  int rc2 = spot__event_encode_as(e, rec, bytes);
  if (rc2 != 0)
    return spot__fail(SPOT_ECORRUPT, "the event log of %s has %u-byte elements, not event records; move %s/.spot/events.log "
                      "away and run `spot init %s`", spot_ns_dir(ns), (unsigned)bytes, spot_ns_dir(ns), spot_ns_dir(ns));
  return spot_log_append_async(events, rec, bytes, id);
}

int spot__events_read(spot_ns_t *ns, uint64_t id, spot__event_t *e) {
  spot_log_t *events;
  uint8_t rec[SPOT__EVENT_BYTES];
  int rc = spot__nsctx_events(ns, &events);
  uint32_t bytes = 0;
  if (rc == 0 && (bytes = spot__log_elem_size(events)) > sizeof rec)
    rc = SPOT_ECORRUPT;
  if (rc == 0)
    rc = spot_log_read(events, id, rec, bytes);
  if (rc == 0 && (rc = spot__event_decode(rec, bytes, e)) != 0)
    rc = spot__fail(rc, "event %llu of %s does not decode", (unsigned long long)id, spot_ns_dir(ns));
  if (rc == 0)
    e->id = id;
  return rc;
}

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
  r.cpu_ns = e->cpu_ns;
  r.energy_nj = e->energy_nj;
  r.handler_id = e->handler_id;
  memcpy(r.log, e->log, sizeof r.log);
  memcpy(r.handler, e->handler, sizeof r.handler);
  memcpy(r.reason, e->reason, sizeof r.reason);
  *out = r;
}

int spot_events_range(spot_ns_t *ns, uint64_t *earliest, uint64_t *latest) {
  spot_log_t *log;
  int rc = spot__nsctx_events(ns, &log);
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
  int rc = spot__events_read(ns, id, &e);
  if (rc == 0)
    to_public(&e, out);
  return rc;
}

int spot_events_wait(spot_ns_t *ns, uint64_t after, uint64_t timeout_ns) {
  spot_log_t *log;
  int rc = spot__nsctx_events(ns, &log);
  return rc ? rc : spot_log_wait_newer(log, after, timeout_ns);
}

int spot_events_decode(const void *record, size_t len, spot_eventrec_t *out) {
  if (len != SPOT_EVENT_BYTES && len != SPOT_EVENT_V1_BYTES)
    return spot__fail(SPOT_EINVAL, "an event record has %u bytes (or %u in version 1), not %zu", SPOT_EVENT_BYTES,
                      SPOT_EVENT_V1_BYTES, len);
  spot__event_t e;
  int rc = spot__event_decode(record, len, &e);
  if (rc != 0)
    return spot__fail(rc, "the event record does not decode (unknown type or version, or a damaged string)");
  to_public(&e, out);
  return 0;
}

const char *spot_events_type_name(int type) { return spot__event_type_name(type); }
