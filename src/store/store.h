/*
 * store/store.h: what the store offers the rest of spot beyond the public API (the dispatcher uses it): appends
 * that mark their element as waiting for a handler, and the release of that mark.
 */
#ifndef SPOT_STORE_STORE_H
#define SPOT_STORE_STORE_H

#include <stdint.h>

#include "spot/log.h"

/* Like spot_log_append_async, and marks the element with `pending` (a handler id, non-zero): until
 * spot__log_release(), the ring will not overwrite it (appends wait, then fail with SPOT_EBUSY). */
int spot__log_append_pending(spot_log_t *log, const void *data, size_t len, uint32_t pending, uint64_t *seq);

/* Clears the mark of element seq (nothing if it is gone). */
void spot__log_release(spot_log_t *log, uint64_t seq);

/* The mark of element seq, 0 if none or if seq is not in its slot. */
uint32_t spot__log_pending(spot_log_t *log, uint64_t seq);

#endif
