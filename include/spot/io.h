/*
 * spot/io.h: the table of file methods through which the log store does all of its I/O.
 *
 * Like SQLite's VFS: the store never calls the OS directly, so a test (or an embedder) can hand it another table.
 * spot ships two: spot_io_posix() (real files, mmap, fdatasync, flock) and the in-memory spot_io_mem (spot/io_mem.h),
 * which can fail the Nth operation, write short, report ENOSPC, and simulate a power cut that drops or tears every
 * byte written since the last sync, and every byte written through the map that was not flushed.
 *
 * Every method returns 0 or a negative SPOT_E* code (SPOT_EIO, SPOT_ENOSPC, SPOT_ENOTFOUND, SPOT_EEXIST...).
 */
#ifndef SPOT_IO_H
#define SPOT_IO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct spot_io spot_io_t;
typedef struct spot_file spot_file_t; /* an open file; its layout belongs to the io implementation */

/* Flags of open(). */
#define SPOT_IO_CREATE 0x1u /* create the file if missing */
#define SPOT_IO_EXCL 0x2u   /* with CREATE: fail with SPOT_EEXIST if it exists */

/* Modes of lock(): advisory whole-file locks, released when the file is closed or its process dies. */
#define SPOT_IO_LOCK_SHARED 1   /* blocks until granted */
#define SPOT_IO_LOCK_EXCL_TRY 2 /* never blocks: SPOT_EBUSY if another holder exists */
#define SPOT_IO_UNLOCK 3

struct spot_io {
  /* Opens path for reading and writing. *out is owned by the caller until close(). */
  int (*open)(spot_io_t *io, const char *path, unsigned flags, spot_file_t **out);
  /* Closes f (and releases its lock). f is invalid afterwards, whatever the result. */
  int (*close)(spot_file_t *f);
  /* The file's size in bytes. */
  int (*size)(spot_file_t *f, uint64_t *out);
  /* Reads up to n bytes at off; *got may be less than n at end of file. */
  int (*read)(spot_file_t *f, uint64_t off, void *buf, size_t n, size_t *got);
  /* Writes up to n bytes at off; *put may be less than n (a short write): the caller continues. */
  int (*write)(spot_file_t *f, uint64_t off, const void *buf, size_t n, size_t *put);
  /* Makes the file at least size bytes long with its blocks reserved, so later stores into the map cannot fail for
   * lack of space (SPOT_ENOSPC is reported here instead). */
  int (*allocate)(spot_file_t *f, uint64_t size);
  /* Maps the first size bytes shared and writable; *addr stays valid until unmap() or close(). */
  int (*map)(spot_file_t *f, uint64_t size, void **addr);
  int (*unmap)(spot_file_t *f, void *addr, uint64_t size);
  /* Makes durable every byte written so far through write(), and every byte written through the map that was
   * handed to flush() (or every one, when flush is NULL), like fdatasync. On failure the state of the unsynced
   * bytes on disk is unknown. */
  int (*sync)(spot_file_t *f);
  /* Takes or releases the file's advisory lock (SPOT_IO_LOCK_*). */
  int (*lock)(spot_file_t *f, int mode);
  /* Renames a file atomically, failing with SPOT_EEXIST if `to` exists, and makes the rename durable. */
  int (*rename)(spot_io_t *io, const char *from, const char *to);
  /* Removes a file; SPOT_ENOTFOUND if missing. */
  int (*remove)(spot_io_t *io, const char *path);
  /* 16 bytes that identify the current boot of the machine: they change after every restart (a power cut), so
   * recovery knows whether the page cache of the last writer survived. */
  int (*boot_id)(spot_io_t *io, uint8_t out[16]);
  /* Hands the bytes [off, off + len) of the file, written through the map, to the file system so that the next
   * sync() covers them (POSIX: msync(MS_SYNC) of their pages, see src/platform/platform.h). NULL when sync()
   * alone covers bytes written through the map (spot_io_posix() on Linux, where one page cache serves both). */
  int (*flush)(spot_file_t *f, uint64_t off, uint64_t len);
};

/* The process-wide POSIX implementation (files, mmap, fdatasync, flock). Static storage; never NULL. */
spot_io_t *spot_io_posix(void);

#ifdef __cplusplus
}
#endif
#endif
