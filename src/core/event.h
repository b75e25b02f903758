/*
 * core/event.h: the records of a node's event log, and their portable encoding.
 *
 * Four kinds: put (an element was put, naming a handler or not), start (a handler began on it), end (the handler
 * returned 0) and fail (it returned non-zero, crashed, or overran its time). Each carries its cause, the (node,
 * event) that produced it: a put made by a handler has that invocation's start event as cause; a start has its
 * put; an end or fail has its start. So the causal tree of any element can be walked both ways. An event's id is
 * its sequence number in the event log (filled in when it is read from there). A put that names a handler is also
 * queued, with its id, in the node's trigger queue, which the node follows.
 *
 * Two record layouts, told apart by their size and their version byte (offset 1):
 *   version 2, SPOT__EVENT_BYTES (384): everything below; what the network carries and new event logs hold;
 *   version 1, SPOT__EVENT_V1_BYTES (256): no cpu_ns or energy_nj, a reason of at most 47 bytes. Event logs made
 *     before version 2 keep it (a log's element size is fixed), and so does every trigger queue (puts need neither
 *     field). Both decode; a record is written in the layout of the log it goes to.
 */
#ifndef SPOT_CORE_EVENT_H
#define SPOT_CORE_EVENT_H

#include <stddef.h>
#include <stdint.h>

#define SPOT__EVENT_BYTES 384u
#define SPOT__EVENT_VERSION 2u
#define SPOT__EVENT_V1_BYTES 256u
#define SPOT__EVENT_V1_REASON 48u /* the reason field of a version-1 record, NUL included */

typedef enum spot__evtype { SPOT__EV_PUT = 1, SPOT__EV_START = 2, SPOT__EV_END = 3, SPOT__EV_FAIL = 4 } spot__evtype_t;

typedef struct spot__event {
  uint8_t type;         /* spot__evtype_t */
  int32_t status;       /* end: 0; fail: the handler's return value, or a SPOT_E* code */
  uint64_t node;        /* the node that wrote the event */
  uint64_t id;          /* its event id (its sequence number in the event log) */
  uint64_t cause_node;  /* the event that caused it: (0, 0) for a put from outside any handler */
  uint64_t cause_id;
  uint64_t ref;         /* start/end/fail: the put event id they belong to */
  uint64_t time_ns;     /* wall clock when it happened */
  uint64_t duration_ns; /* end/fail: how long the handler ran */
  uint64_t seq;         /* the element's sequence number in `log` */
  uint64_t cpu_ns;      /* end/fail: the CPU time of the run (0: unknown, or a version-1 record) */
  uint64_t energy_nj;   /* end/fail: its energy in nanojoules at the node's power figure (0: unknown) */
  uint32_t handler_id;  /* the handler's id in the namespace registry (0: none) */
  char log[64];
  char handler[64];
  char reason[128];     /* fail: why, in words */
  uint64_t trigger;     /* put events read from the trigger queue: their slot there (not encoded) */
} spot__event_t;

/* Fills *e (all of it: fields not named here are zero) as the put event of element seq of log `log`, naming
 * handler (may be NULL; handler_id its id, 0 for none), caused by (cause_node, cause_id) ((0, 0): a put from
 * outside any handler). Longer names are cut to the record's fields. The node that writes it sets node, id and
 * time_ns. Every put event (dispatch, remote puts, the device) is made here, so a change of the record is made once. */
void spot__event_put_init(spot__event_t *e, const char *log, uint64_t seq, uint32_t handler_id, const char *handler,
                          uint64_t cause_node, uint64_t cause_id);

/* Fills *e (all of it) as an event of type (SPOT__EV_START, _END or _FAIL) of the run of put event `put` (its log,
 * seq, handler and id as ref), caused by (cause_node, cause_id): a start by its put, an end or fail by its start. */
void spot__event_run_init(spot__event_t *e, int type, const spot__event_t *put, uint64_t cause_node,
                          uint64_t cause_id);

/* Encodes e into out as a version-2 record (SPOT__EVENT_BYTES, little-endian, zero-padded strings). */
void spot__event_encode(const spot__event_t *e, uint8_t out[SPOT__EVENT_BYTES]);

/* Encodes e into the bytes of out in the layout of that size: SPOT__EVENT_BYTES (version 2) or
 * SPOT__EVENT_V1_BYTES (version 1: cpu_ns and energy_nj dropped, reason cut to 47 bytes). 0, or SPOT_EINVAL for
 * another size (out untouched). */
int spot__event_encode_as(const spot__event_t *e, void *out, size_t bytes);

/* Decodes the len bytes at in (a version-2 record of SPOT__EVENT_BYTES or a version-1 one of
 * SPOT__EVENT_V1_BYTES). 0, or SPOT_ECORRUPT if the type is unknown, the version does not match the size, or a
 * string is unterminated; SPOT_EINVAL for another size. *e is written only on success. */
int spot__event_decode(const void *in, size_t len, spot__event_t *e);

/* Writes a fail event's reason for a handler that returned status (non-zero) into out (cap bytes, cut to fit):
 * "ENAME: detail" where ENAME is the code's name when status is a SPOT_E* code ("SPOT_EIO") and "returned N"
 * otherwise; detail is the handler's own line (spot_fail(ctx, ...)) or the tail of its output, and may be NULL or
 * "" (then the reason is ENAME alone). */
void spot__event_reason(char *out, size_t cap, int status, const char *detail);

/* "put", "start", "end", "fail" (or "?"). */
const char *spot__event_type_name(int type);

#endif
