/*
 * spot/handler.h: writing handlers, the functions spot runs when an element is put to a log.
 *
 *   #include <spot/handler.h>
 *   static int hello(spot_ctx_t *ctx, const spot_event_t *ev) {
 *     spot_print(ctx, "hello from %s element %llu", ev->log, (unsigned long long)ev->seq);
 *     return 0;
 *   }
 *   SPOT_HANDLER(hello)
 *
 * A handler returns 0 for success or any other value for failure (recorded as its status in the event log, and
 * named in the fail event's reason: "SPOT_ERANGE: ..." for a SPOT_E* code, "returned N" otherwise; the rest of the
 * reason is the line the handler gave spot_fail(ctx, ...), else the detail of the spot call that failed last in
 * the run, else the last line the run printed). It
 * may get, put and read latest on any log of its node through ctx; its puts record this invocation as their cause.
 * The same source builds for every scale: no OS calls are needed in a handler.
 */
#ifndef SPOT_HANDLER_H
#define SPOT_HANDLER_H

#include <stddef.h>
#include <stdint.h>

#include "spot/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct spot_ctx spot_ctx_t;
/* The event that caused a put: (node id, event id); (0, 0) for a put from outside any handler. */
typedef struct spot_cause {
  uint64_t node;
  uint64_t event;
} spot_cause_t;

typedef struct spot_event {
  const char *log;     /* the log the element was put to */
  uint64_t seq;        /* its sequence number */
  const void *data;    /* the element (a private copy, valid during the call) */
  size_t size;         /* the log's element size */
  const char *handler; /* this handler's name */
  uint64_t node;       /* the node running it */
  uint64_t event_id;   /* this invocation's start event in the node's event log */
  uint64_t put_id;     /* the put event that triggered it */
} spot_event_t;

typedef int (*spot_handler_fn)(spot_ctx_t *ctx, const spot_event_t *ev);

#define SPOT_HANDLER_ABI 1u

typedef struct spot_handler_def {
  uint32_t abi;
  const char *name;
  spot_handler_fn fn;
} spot_handler_def_t;

/* Registers a handler in this process (SPOT_HANDLER calls it before main or when a handler object is loaded).
 * def must stay valid for the life of the process (or of its shared object). */
void spot_handler_register(const spot_handler_def_t *def);

/* Registers function fn under its own name. Place it after the function, at file scope. */
#define SPOT_HANDLER(fn)                                                                          \
  static const spot_handler_def_t spot__handler_def_##fn = {SPOT_HANDLER_ABI, #fn, fn};           \
  __attribute__((constructor)) static void spot__handler_reg_##fn(void) {                         \
    spot_handler_register(&spot__handler_def_##fn);                                               \
  }

/* Appends len bytes (zero-padded) to log `log` of this node, or of another node when log is a remote name
 * (spot://host:port/namespace/log, reached with the node's key); if handler is not NULL, that handler runs on the
 * new element. *seq (may be NULL) gets its sequence number. Errors as spot_put (spot/node.h), spot_remote_put.
 * On a microcontroller (src/device) a put to a remote name is queued for the device's edge, which forwards it:
 * 0 then means it is kept (across a reset too) and will be delivered, *seq gets 0 (the number is not known yet),
 * and SPOT_EBUSY means the queue is full (the edge is away). */
int spot_ctx_put(spot_ctx_t *ctx, const char *log, const void *data, size_t len, const char *handler, uint64_t *seq);

/* As spot_ctx_put, but the put records `cause` instead of this invocation: for a handler that works on behalf of
 * elements put earlier, possibly on other nodes (a batch of queries, each answered with the cause of its own put,
 * so that a trace follows each element's own path). cause (not kept) NULL or (0, 0) means this invocation. */
int spot_ctx_put_cause(spot_ctx_t *ctx, const char *log, const void *data, size_t len, const char *handler,
                       const spot_cause_t *cause, uint64_t *seq);

/* Copies element seq of log `log` (or of a remote name) into buf (cap >= the log's element size). */
int spot_ctx_get(spot_ctx_t *ctx, const char *log, uint64_t seq, void *buf, size_t cap);

/* The newest sequence number of log `log` or of a remote name (0 if empty). */
int spot_ctx_latest(spot_ctx_t *ctx, const char *log, uint64_t *seq);

/* Writes one line to the node's output, prefixed with the handler's name and event. */
void spot_print(spot_ctx_t *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records a printf-style detail line for the current run: if the handler then returns non-zero, its fail event's
 * reason is "ENAME: detail" (`spot events`, `spot trace`), cut to the event record's reason field. A later call
 * replaces the line; it is dropped when the handler returns 0. Call it on the handler's own thread, during the run:
 *   if (t < -60 || t > 60) { spot_fail(ctx, "reading %.1f out of range", t); return SPOT_ERANGE; }
 * In C, spot_fail(ctx, ...) with a spot_ctx_t * is this function, and spot_fail(SPOT_E..., ...) is the error-detail
 * spot_fail of spot/error.h (a _Generic macro below picks by the first argument's type); C++ calls spot_ctx_fail. */
void spot_ctx_fail(spot_ctx_t *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#else
#define spot_fail(first, ...) _Generic((first), spot_ctx_t *: spot_ctx_fail, default: spot_fail)(first, __VA_ARGS__)
#endif
#endif
