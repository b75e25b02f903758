/*
 * store/store.h: what the store offers the rest of spot beyond the public API (dispatch and the network use it):
 * appends that mark their element as waiting for a handler and the release of that mark (log.c); a namespace's
 * table of open logs, the logs of its .spot/ directory, the files init makes there, and one attachment through which
 * the namespace's user (dispatch) keeps its own state with the namespace (ns.c). The store does not know what the
 * .spot/ logs or the attachment are for.
 */
#ifndef SPOT_STORE_STORE_H
#define SPOT_STORE_STORE_H

#include <stdint.h>

#include "spot/log.h"
#include "spot/ns.h"

/* Like spot_log_append_async, and marks the element with `pending` (a handler id, non-zero): until
 * spot__log_release(), the ring will not overwrite it (appends wait, then fail with SPOT_EBUSY). */
int spot__log_append_pending(spot_log_t *log, const void *data, size_t len, uint32_t pending, uint64_t *seq);

/* Clears the mark of element seq (nothing if it is gone). */
void spot__log_release(spot_log_t *log, uint64_t seq);

/* The mark of element seq, 0 if none or if seq is not in its slot (SPOT__MARK_RUNNING may be set in it). */
uint32_t spot__log_pending(spot_log_t *log, uint64_t seq);

/* The log's element size (fixed when it was made); a plain read, for hot paths. */
uint32_t spot__log_elem_size(const spot_log_t *log);
/* This handle's appends skip the writers' turns (store/lease.c). For the node's own logs (events, triggers,
 * registry, bindings): many threads each append one record between other work there, so a turn would change hands
 * on nearly every append and only add its cost. Call right after opening, before any append. */
void spot__log_no_turns(spot_log_t *log);

/* A mark with this bit is being run. The handler id is the mark without it. */
#define SPOT__MARK_RUNNING 0x80000000u

/* Claims element seq for running its handler: sets SPOT__MARK_RUNNING in its mark if it is marked and not yet
 * claimed. 0 on success; SPOT_EBUSY if another run claimed it; SPOT_ENOTFOUND if it is not marked any more (its
 * handler ended). So two triggers for one element never run its handler twice. */
int spot__log_claim(spot_log_t *log, uint64_t seq);

/* Spins until an element newer than `after` is in the log, for at most poll_ns: 0 if one is, SPOT_ETIMEDOUT if
 * not. Reads only (no system call but a vDSO clock read every 64 turns): the polling half of a wait that then
 * sleeps in spot_log_wait_newer (spot_node_opts_t.poll_us). */
int spot__log_poll_newer(spot_log_t *log, uint64_t after, uint64_t poll_ns);

/* Clears the SPOT__MARK_RUNNING bit of element seq (a node starting: nothing of an earlier run is running). */
void spot__log_unclaim(spot_log_t *log, uint64_t seq);

/* ---- namespaces (ns.c) ---- */

/* The open handle of log `name` (DIR/NAME.log), opened on first use, owned by ns until spot_ns_close (callers
 * never close it). A name opened before is found in O(1) without a lock (ns.c). SPOT_EBADNAME, SPOT_ENOTFOUND
 * with a detail line, or spot_log_open's errors. */
int spot__ns_log(spot_ns_t *ns, const char *name, spot_log_t **out);

/* The same for a log of the node's own files, DIR/.spot/<rel> (rel a plain file name made by init). SPOT_ENOTFOUND
 * names `spot init`. */
int spot__ns_own_log(spot_ns_t *ns, const char *rel, spot_log_t **out);

/* The hash the namespace's table of open logs files a name under (FNV-1a, 32 bits): exposed so that tests can
 * pick names that collide. */
uint32_t spot__ns_hash(const char *name);

/* What init makes in DIR/.spot/ besides the node file: a log (elem_size > 0) or a directory (elem_size 0). */
typedef struct spot__ns_file {
  const char *rel;
  uint32_t elem_size;
  uint64_t history;
  spot_sync_t sync;
} spot__ns_file_t;

/* Makes dir a namespace with every file written through io (directories are made in the file system): the
 * directory, .spot/, the node file (a random id), files[0..n), then the marker. Idempotent and complete: until the
 * marker exists (written last, through a temporary name), init may remake what an interrupted init left (a damaged
 * node file, a log that does not open, temporary files), so a second init after a failure finishes the namespace.
 * Once the marker exists, only missing files are added. (spot_ns_init, in dispatch, gives the node's files.) */
int spot__ns_init_io(const char *dir, spot_io_t *io, const spot__ns_file_t *files, size_t n);

/* The io ns was opened with (spot_io_posix() when it was given NULL); valid until spot_ns_close. */
spot_io_t *spot__ns_io(const spot_ns_t *ns);

/* Removes log `name` (its file): refused with SPOT_EBUSY (a detail line saying what to stop) while a node serves
 * the namespace, while any handle of the log is open (this process's table included), SPOT_ENOTFOUND if there is
 * no such log. before (may be NULL) runs while both locks are held, just before the file goes; its error stops the
 * removal. */
int spot__ns_remove_log(spot_ns_t *ns, const char *name, int (*before)(spot_ns_t *, const char *));

/* Takes log `name` out of ns's table and closes its handle, so that this namespace holds no lock on its file (for
 * a removal or a `check --fix`, which need the log to themselves); a later spot__ns_log opens it anew. The caller
 * vouches that no thread uses the handle (a pointer spot__ns_log gave for name) now or later, nor looks the name up
 * in ns meanwhile. 0 also when the log is not open in ns; SPOT_EBADNAME, SPOT_ENOMEM. */
int spot__ns_drop_log(spot_ns_t *ns, const char *name);

/* Writes the path of DIR/.spot/<rel> into buf. SPOT_ERANGE if it does not fit. */
int spot__ns_path(const spot_ns_t *ns, const char *rel, char *buf, size_t cap);

/* The state a module keeps with ns (one module per namespace: dispatch). The first call makes it with make(ns,
 * &state), under the namespace's lock (make must not call back into ns); later calls return it without a lock.
 * drop(state) is called by spot_ns_close, before the logs of the table are closed. SPOT_EINVAL if another drop
 * function attached first; make's error otherwise. */
int spot__ns_attach(spot_ns_t *ns, int (*make)(spot_ns_t *, void **), void (*drop)(void *), void **out);

#endif
