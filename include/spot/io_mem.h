/*
 * spot/io_mem.h: an in-memory implementation of spot_io_t for tests and fuzzing, with fault injection.
 *
 * Each file has two images: the "page cache" (what open handles and maps see) and the "disk" (what survives a
 * power cut). sync() copies to the disk what was written with write() or handed to flush() since the last sync:
 * bytes stored through the map and never flushed stay unsynced (the POSIX contract, platform/platform.h).
 * spot_io_mem_power_cut() builds a new page cache from the disk plus, for every 512-byte sector written since the
 * last sync, at random: the new bytes, the old bytes, or a torn mix; every open file then fails with SPOT_EIO and
 * the boot id changes. Operations can be made to fail from the Nth on (SPOT_EIO, SPOT_ENOSPC, or a short write).
 * Locks work between handles of one io only.
 */
#ifndef SPOT_IO_MEM_H
#define SPOT_IO_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "spot/io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A new, empty in-memory file system. seed drives every random choice (power-cut tearing). NULL if out of memory. */
spot_io_t *spot_io_mem_new(uint64_t seed);

/* Frees the file system. Every file opened through it must be closed first. */
void spot_io_mem_free(spot_io_t *io);

/* Fault kinds for spot_io_mem_fail_at(). */
#define SPOT_IO_MEM_FAIL_EIO 1    /* the operation fails with SPOT_EIO */
#define SPOT_IO_MEM_FAIL_ENOSPC 2 /* allocate and write fail with SPOT_ENOSPC, others with SPOT_EIO */
#define SPOT_IO_MEM_FAIL_SHORT 3  /* a write stores only part of its bytes (and succeeds); others fail with EIO */

/* Makes operation number n (counting from 1 since spot_io_mem_new or the last call; 0 disables) and, if sticky,
 * every later one fail with the given kind. */
void spot_io_mem_fail_at(spot_io_t *io, uint64_t n, int kind, int sticky);

/* Operations counted so far (since the last spot_io_mem_fail_at). */
uint64_t spot_io_mem_ops(spot_io_t *io);

/* Syncs counted since spot_io_mem_new(). */
uint64_t spot_io_mem_syncs(spot_io_t *io);

/* Simulates a power cut now (see above). Threads still using the files see SPOT_EIO from then on. */
void spot_io_mem_power_cut(spot_io_t *io);

/* Makes the power cut happen in the middle of sync number n (counting from 1 since spot_io_mem_new): part of the
 * dirty sectors reach the disk, then the power is cut and that sync fails. 0 disables. */
void spot_io_mem_power_cut_at_sync(spot_io_t *io, uint64_t n);

/* Replaces (or creates) file path with the n bytes at data, on disk and in the page cache. */
int spot_io_mem_put_file(spot_io_t *io, const char *path, const void *data, size_t n);

/* Points *data at the page-cache bytes of path (valid until the next operation on the io) and *n at its size. */
int spot_io_mem_get_file(spot_io_t *io, const char *path, void **data, size_t *n);

#ifdef __cplusplus
}
#endif
#endif
