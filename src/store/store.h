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

/* The mark of element seq, 0 if none or if seq is not in its slot (SPOT__MARK_RUNNING may be set in it). */
uint32_t spot__log_pending(spot_log_t *log, uint64_t seq);

/* A mark with this bit is being run. The handler id is the mark without it. */
#define SPOT__MARK_RUNNING 0x80000000u

/* Claims element seq for running its handler: sets SPOT__MARK_RUNNING in its mark if it is marked and not yet
 * claimed. 0 on success; SPOT_EBUSY if another run claimed it; SPOT_ENOTFOUND if it is not marked any more (its
 * handler ended). So two triggers for one element never run its handler twice. */
int spot__log_claim(spot_log_t *log, uint64_t seq);

/* Clears the SPOT__MARK_RUNNING bit of element seq (a node starting: nothing of an earlier run is running). */
void spot__log_unclaim(spot_log_t *log, uint64_t seq);

#endif
