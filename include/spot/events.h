/*
 * spot/events.h: reading a node's event log.
 *
 * Every node keeps an event log in its namespace: one record per put, handler start, handler end and handler
 * failure, each with its cause (the (node, event) that produced it), so a chain of handlers can be traced back to
 * the put from outside that began it (`spot events`, `spot trace`). The event log is a ring of the newest events
 * (65,536 by default); an event's id is its position in the log, from 1, and never repeats. Events are read here
 * by id (and followed as they are written); records from another node's log (spot_remote_events in spot/net.h)
 * are decoded with spot_events_decode. All structs are the caller's; nothing returned points into the log.
 */
#ifndef SPOT_EVENTS_H
#define SPOT_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "spot/node.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The bytes of one encoded event record (spot_remote_events' records, and the elements of event logs made since
 * record version 2). Event logs made by an older spot keep version-1 records of SPOT_EVENT_V1_BYTES (no CPU time or
 * energy, a reason of at most 47 bytes): spot_events_read and spot_events_decode read both. */
#define SPOT_EVENT_BYTES 384u
#define SPOT_EVENT_V1_BYTES 256u

typedef enum spot_event_type {
  SPOT_EVENT_PUT = 1,   /* an element was put (naming a handler or not) */
  SPOT_EVENT_START = 2, /* a handler began on it */
  SPOT_EVENT_END = 3,   /* the handler returned 0 */
  SPOT_EVENT_FAIL = 4,  /* it returned non-zero, crashed or overran its time limit */
} spot_event_type_t;

/* One event. cause: a put made by a handler has that invocation's start event; a start has its put; an end or
 * fail has its start; (0, 0) for a put from outside any handler (a put from another node's client carries that
 * client's id). ref: for start, end and fail, the id of their put. */
typedef struct spot_eventrec {
  spot_event_type_t type;
  int32_t status;       /* end: 0; fail: the handler's return value, or a SPOT_E* code */
  uint64_t node;        /* the node that wrote it */
  uint64_t id;          /* its id in that node's event log */
  spot_cause_t cause;
  uint64_t ref;         /* start, end, fail: their put's id; 0 for a put */
  uint64_t time_ns;     /* wall clock (ns since 1970) when it happened */
  uint64_t duration_ns; /* end, fail: how long the handler ran */
  uint64_t seq;         /* the element's sequence number in log */
  uint64_t cpu_ns;      /* end, fail: the run's CPU time (the handler thread's, or its worker's); 0 if unknown */
  uint64_t energy_nj;   /* end, fail: the run's energy in nanojoules at the node's power figure (spotd --watts, or
                           RAPL where readable); 0 if unknown */
  uint32_t handler_id;  /* the handler's id in the namespace's registry, 0 for none */
  char log[64];         /* the element's log: a local name, or a remote name for a put to another node */
  char handler[64];     /* "" for a put without a handler */
  char reason[128];     /* fail: why, in words; otherwise "" */
} spot_eventrec_t;

/* The event ids ns's event log holds now: *earliest..*latest (both 0 when it is empty). Either may be NULL. */
int spot_events_range(spot_ns_t *ns, uint64_t *earliest, uint64_t *latest);

/* Reads event id of ns into *out. SPOT_EEXPIRED when the ring has overwritten it (the oldest kept is in
 * spot_events_range), SPOT_ENOTYET when it has not been written, SPOT_ECORRUPT when its record does not decode. */
int spot_events_read(spot_ns_t *ns, uint64_t id, spot_eventrec_t *out);

/* Follows the log: waits until an event newer than `after` exists (at once if one does), at most timeout_ns.
 * 0, or SPOT_ETIMEDOUT. */
int spot_events_wait(spot_ns_t *ns, uint64_t after, uint64_t timeout_ns);

/* Decodes one record of len bytes (SPOT_EVENT_BYTES, as spot_remote_events returns them, or a version-1 record of
 * SPOT_EVENT_V1_BYTES) into *out; the record's own id field is kept. SPOT_EINVAL for another length, SPOT_ECORRUPT
 * for an unknown type, a version that does not match the length, or an unterminated string. */
int spot_events_decode(const void *record, size_t len, spot_eventrec_t *out);

/* Records in ns's event log a put that this process made to another node's log through a client (spot_remote_put
 * or spot_remote_put_async, spot/net.h): url the remote name it put to, seq the sequence number that node returned,
 * handler (or NULL) the handler it named, cause (or NULL) the cause it sent. The event is what a handler's put to
 * another node records by itself, so `spot trace` follows such a put to that node. *id (may be NULL) gets the new
 * event's id. SPOT_EINVAL for a local name, seq 0, or a name longer than an event keeps (63 characters). */
int spot_events_note_remote_put(spot_ns_t *ns, const char *url, uint64_t seq, const char *handler,
                                const spot_cause_t *cause, uint64_t *id);

/* "put", "start", "end", "fail", or "?" for anything else. Static storage. */
const char *spot_events_type_name(int type);

#ifdef __cplusplus
}
#endif
#endif
