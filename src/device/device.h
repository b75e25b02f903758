/*
 * device/device.h: the device runtime, spot's node for a microcontroller without an OS.
 *
 * What a spot node is on a Linux host (logs, a handler registry, dispatch, an event log) in a few KiB of static
 * RAM: no malloc, no files, no threads. Logs live in one arena of memory the board keeps across a reset (a
 * `.noinit` section, as the retention RAM of real parts): a directory of logs and, per log, slots in the host's
 * element format ({seq, crc, mark} + data padded to 16, crc = crc32c(data || seq) ^ mark code: core/logfmt.h),
 * written with the host's commit protocol. So after a reset the arena is recovered as a host log is after a
 * crash: every element whose slot is intact is kept, a torn slot is dropped, sequence numbers never go back, and
 * every handler whose mark is still set runs again (at least once). The node's event log is the arena's first log
 * (256-byte records of core/event.h), so the host's `spot trace` reads a device's events as any node's.
 *
 * Handlers are the ones linked into the firmware: SPOT_HANDLER's constructors register them (spot/handler.h) in a
 * static table of SPOT__DEV_HANDLERS_MAX entries before main. A put naming a handler marks the element, records
 * a put event and queues the run; spot__dev_run_pending runs the queue on the caller's stack (the firmware's main
 * loop), each run between a start and an end (or fail) event, its own puts recorded with that run as their cause.
 *
 * A handler's put to another node (spot_ctx_put to spot://HOST:PORT/NS/LOG) goes into the device's outbox, a log
 * of the arena (".outbox"): the link (device/link.h) sends its puts to the edge one at a time, in order, and the
 * edge forwards each with the run as its cause. Only when the edge has answered does the device record the put
 * event (the remote name and the target's sequence number, as a host records a remote put) and move on; a reset
 * before that sends it again with the same request id, which the edge answers from its memory, so an
 * acknowledged put (spot_ctx_put returned 0) reaches its target at least once and, while the edge keeps its memory,
 * once.
 *
 * Single-threaded: call everything from one context (the main loop), never from an interrupt.
 */
#ifndef SPOT_DEVICE_DEVICE_H
#define SPOT_DEVICE_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "spot/handler.h"
#include "spot/node.h"

#define SPOT__DEV_LOGS_MAX 8u         /* logs in the arena, the event log included */
#define SPOT__DEV_HANDLERS_MAX 8u     /* handlers linked into the firmware */
#define SPOT__DEV_QUEUE_MAX 8u        /* handler runs waiting */
#define SPOT__DEV_EVENTS_LOG ".events" /* the event log's name (not a valid log name, so no client can reach it) */
#define SPOT__DEV_OUTBOX_LOG ".outbox" /* the puts to other nodes waiting for the edge (not reachable either) */
#define SPOT__DEV_UP_HISTORY 4u        /* puts to other nodes the outbox holds */
#define SPOT__DEV_UP_DATA 64u          /* the longest element a device handler puts to another node */
#define SPOT__DEV_URL_MAX 63u          /* the longest remote name (the event record's log field) */

/* A put to another node in the outbox (an element of SPOT__DEV_OUTBOX_LOG). */
typedef struct spot__dev_up {
  uint64_t cause;                    /* the start event of the run that made it */
  uint32_t data_len, pad;
  char url[SPOT__DEV_URL_MAX + 1];   /* spot://HOST:PORT/NS/LOG */
  char handler[SPOT__DEV_URL_MAX + 1]; /* "" for none */
  uint8_t data[SPOT__DEV_UP_DATA];
} spot__dev_up_t;

/* The node's state outside the arena (RAM that a reset clears). */
typedef struct spot__dev_stats {
  uint32_t boots;                 /* starts of this arena (retained) */
  uint32_t recovered;             /* intact elements found at start */
  uint32_t torn;                  /* slots dropped at start (an append cut by the reset) */
  uint32_t rerun;                 /* handler runs found pending at start */
  uint32_t started, ended, failed; /* handler runs since start */
} spot__dev_stats_t;

/* Starts the node on arena (bytes, 8-byte aligned, kept by the caller for the life of the program): recovers what
 * a previous run left there (same geometry, intact directory), or formats it with an event log of events_history
 * records and node id node (0: made from the clock). Then queues the handlers left pending. Returns 0 or
 * SPOT_EINVAL (arena too small). */
int spot__dev_start(void *arena, size_t bytes, uint32_t events_history, uint64_t node);

/* The node id (a random 64-bit number chosen when the arena was formatted). */
uint64_t spot__dev_node(void);
const spot__dev_stats_t *spot__dev_stats(void);

/* Creates log name in the arena. SPOT_EBADNAME, SPOT_EEXIST, SPOT_EINVAL (elem_size 0 or above SPOT_ELEM_MAX,
 * history 0), SPOT_ENOSPC (no room left in the arena, or SPOT__DEV_LOGS_MAX logs). */
int spot__dev_create(const char *name, uint32_t elem_size, uint64_t history);

/* spot_put's contract on the device's logs: len <= elem_size bytes, zero-padded; handler (may be NULL) must be
 * linked in (SPOT_ENOTFOUND before anything is written); cause may be NULL. *seq (may be NULL) gets the number.
 * SPOT_EBUSY when the run queue is full or the ring would overwrite an element whose handler has not ended. */
int spot__dev_put(const char *log, const void *data, size_t len, const char *handler, const spot_cause_t *cause,
                  uint64_t *seq);
/* Reads element seq of log into buf (cap >= elem_size). As spot_log_read. */
int spot__dev_get(const char *log, uint64_t seq, void *buf, size_t cap);
/* Newest and oldest readable sequence numbers (0: empty), element size and history. SPOT_ENOTFOUND. */
int spot__dev_info(const char *log, uint64_t *latest, uint64_t *earliest, uint32_t *elem_size, uint64_t *history);
/* Event record id of the event log, encoded as a version-2 record (SPOT__EVENT_BYTES) into out, whatever the
 * layout the arena keeps. As spot__dev_get on the event log. */
int spot__dev_event(uint64_t id, uint8_t *out);

/* Points *data at element seq of log inside the arena (verified against its crc) and *size at the element size:
 * valid until the next put to that log. Errors as spot__dev_get. For replies that send an element without a copy. */
int spot__dev_peek(const char *log, uint64_t seq, const void **data, uint32_t *size);

/* The link's memory of the last put it executed (request id, sequence number), kept in the arena so that a put
 * sent again after a reset is answered, not appended twice. A reset between the append and this record leaves
 * the put applied but not remembered: sent again, it is appended again (at least once). */
void spot__dev_last_put(uint64_t *id, uint64_t *seq);
void spot__dev_set_last_put(uint64_t id, uint64_t seq);

/* Queues a put of len bytes of data (len <= SPOT__DEV_UP_DATA) to url (a remote name of at most
 * SPOT__DEV_URL_MAX characters) naming handler (may be NULL), caused by run cause (its start event). SPOT_EINVAL,
 * SPOT_ETOOBIG, SPOT_EBUSY (the outbox holds SPOT__DEV_UP_HISTORY puts the edge has not taken: the edge is away). */
int spot__dev_up_put(const char *url, const void *data, size_t len, const char *handler, uint64_t cause);
/* The oldest put in the outbox the edge has not taken: *id its number (the request id it travels with, never
 * reused while the arena lives), *up points into the arena (valid until the next spot__dev_up_done). 0, or
 * SPOT_ENOTFOUND when there is none. */
int spot__dev_up_next(uint64_t *id, const spot__dev_up_t **up);
/* Ends put id of the outbox (the one spot__dev_up_next gave): status 0 records its put event (log = its url, seq =
 * the target's number, cause = the run); otherwise a put event with seq 0 and reason why (the edge or the target
 * refused it: recorded, never dropped silently). Either way the outbox moves on. */
void spot__dev_up_done(uint64_t id, int status, uint64_t seq, const char *why);

/* Runs up to max queued handler runs (0: until the queue is empty, including runs their puts queue). Returns how
 * many ran. */
unsigned spot__dev_run_pending(unsigned max);

/* Handler runs queued now. */
unsigned spot__dev_pending(void);

/* Where spot_print's lines go (the board's console); NULL drops them. */
void spot__dev_set_console(void (*write)(const char *text, size_t len));

#endif
