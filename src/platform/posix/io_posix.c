/*
 * io_posix.c: spot_io_posix(), the log store's file methods on POSIX: pread/pwrite, posix_fallocate, a shared
 * mmap, fdatasync (with msync of the written ranges first where SPOT__SYNC_COVERS_MAP is 0, see
 * platform/platform.h), flock, and the kernel's boot id (/proc/sys/kernel/random/boot_id) for recovery.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platform/platform.h"
#include "platform/posix/posix.h"
#include "spot/error.h"
#include "spot/io.h"

struct spot_file {
  int fd;
  uint8_t *map; /* the mapping of the file, for flush (the store maps each handle once) */
  uint64_t map_bytes;
};

static int px_open(spot_io_t *io, const char *path, unsigned flags, spot_file_t **out) {
  int oflags = O_RDWR | O_CLOEXEC;
  if (flags & SPOT_IO_CREATE)
    oflags |= O_CREAT;
  if (flags & SPOT_IO_EXCL)
    oflags |= O_EXCL;
  spot_file_t *f = calloc(1, sizeof *f);
  if (f == NULL)
    return SPOT_ENOMEM;
  do
    f->fd = open(path, oflags, 0644);
  while (f->fd < 0 && errno == EINTR);
  if (f->fd < 0) {
    int rc = spot__posix_err(errno);
    free(f);
    return rc;
  }
  *out = f;
  return 0;
}

static int px_close(spot_file_t *f) {
  int rc = close(f->fd) == 0 ? 0 : spot__posix_err(errno);
  free(f);
  return rc;
}

static int px_size(spot_file_t *f, uint64_t *out) {
  struct stat st;
  if (fstat(f->fd, &st) != 0)
    return spot__posix_err(errno);
  *out = (uint64_t)st.st_size;
  return 0;
}

static int px_read(spot_file_t *f, uint64_t off, void *buf, size_t n, size_t *got) {
  ssize_t r;
  do
    r = pread(f->fd, buf, n, (off_t)off);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return spot__posix_err(errno);
  *got = (size_t)r;
  return 0;
}

static int px_write(spot_file_t *f, uint64_t off, const void *buf, size_t n, size_t *put) {
  ssize_t r;
  do
    r = pwrite(f->fd, buf, n, (off_t)off);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return spot__posix_err(errno);
  *put = (size_t)r;
  return 0;
}

static int px_allocate(spot_file_t *f, uint64_t size) {
  int rc = posix_fallocate(f->fd, 0, (off_t)size);
  if (rc == EOPNOTSUPP || rc == EINVAL) /* file systems without fallocate (tmpfs of old kernels, some FUSE) */
    rc = ftruncate(f->fd, (off_t)size) == 0 ? 0 : errno;
  return rc == 0 ? 0 : spot__posix_err(rc);
}

static int px_map(spot_file_t *f, uint64_t size, void **addr) {
  void *p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, f->fd, 0);
  if (p == MAP_FAILED)
    return spot__posix_err(errno);
  f->map = p;
  f->map_bytes = size;
  *addr = p;
  return 0;
}

static int px_unmap(spot_file_t *f, void *addr, uint64_t size) {
  if (addr == f->map)
    f->map = NULL, f->map_bytes = 0;
  return munmap(addr, (size_t)size) == 0 ? 0 : spot__posix_err(errno);
}

int spot__map_flush(void *addr, size_t len) {
  long page = sysconf(_SC_PAGESIZE);
  uintptr_t a = (uintptr_t)addr, start = page > 0 ? a - a % (uintptr_t)page : a;
  if (len == 0)
    return 0;
  return msync((void *)start, len + (a - start), MS_SYNC) == 0 ? 0 : SPOT_EIO;
}

/* Used only where SPOT__SYNC_COVERS_MAP is 0 (elsewhere fdatasync covers the map and flush is NULL). */
static int __attribute__((unused)) px_flush(spot_file_t *f, uint64_t off, uint64_t len) {
  if (f->map == NULL || off > f->map_bytes || len > f->map_bytes - off)
    return SPOT_EINVAL;
  return spot__map_flush(f->map + off, (size_t)len);
}

static int px_sync(spot_file_t *f) {
  int r;
  do
    r = fdatasync(f->fd);
  while (r != 0 && errno == EINTR);
  return r == 0 ? 0 : spot__posix_err(errno);
}

static int px_lock(spot_file_t *f, int mode) {
  int op = mode == SPOT_IO_LOCK_SHARED ? LOCK_SH : mode == SPOT_IO_LOCK_EXCL_TRY ? LOCK_EX | LOCK_NB : LOCK_UN;
  int r;
  do
    r = flock(f->fd, op);
  while (r != 0 && errno == EINTR);
  if (r == 0)
    return 0;
  return errno == EWOULDBLOCK ? SPOT_EBUSY : spot__posix_err(errno);
}

/* Syncs the directory holding path, so a rename or create in it is durable. */
static int sync_parent(const char *path) {
  char dir[4096];
  const char *slash = strrchr(path, '/');
  if (slash == NULL)
    strcpy(dir, ".");
  else if (slash == path)
    strcpy(dir, "/");
  else if ((size_t)(slash - path) < sizeof dir)
    memcpy(dir, path, (size_t)(slash - path)), dir[slash - path] = '\0';
  else
    return SPOT_EINVAL;
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return spot__posix_err(errno);
  int rc = fsync(fd) == 0 ? 0 : spot__posix_err(errno);
  close(fd);
  return rc;
}

static int px_rename(spot_io_t *io, const char *from, const char *to) {
  if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) != 0) {
    if (errno != EINVAL && errno != ENOSYS)
      return spot__posix_err(errno);
    /* file systems without RENAME_NOREPLACE: link() refuses to replace as well */
    if (link(from, to) != 0)
      return spot__posix_err(errno);
    unlink(from);
  }
  return sync_parent(to);
}

static int px_remove(spot_io_t *io, const char *path) { return unlink(path) == 0 ? 0 : spot__posix_err(errno); }

static int hexval(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static int px_boot_id(spot_io_t *io, uint8_t out[16]) {
  char text[64];
  /* Tests simulate a reboot by naming another boot (any text, hashed): recovery then runs as after a restart. */
  const char *fake = getenv("SPOT_TEST_BOOT_ID");
  if (fake != NULL && fake[0] != '\0') {
    uint64_t a = 1469598103934665603ull, b = 0x9e3779b97f4a7c15ull;
    for (const char *c = fake; *c; c++) {
      a = (a ^ (uint8_t)*c) * 1099511628211ull;
      b = (b ^ a) * 0xff51afd7ed558ccdull;
    }
    for (int i = 0; i < 8; i++) {
      out[i] = (uint8_t)(a >> (8 * i));
      out[8 + i] = (uint8_t)(b >> (8 * i));
    }
    return 0;
  }
  FILE *fp = fopen("/proc/sys/kernel/random/boot_id", "r");
  if (fp == NULL)
    return SPOT_ENOTFOUND;
  size_t n = fread(text, 1, sizeof text - 1, fp);
  fclose(fp);
  text[n] = '\0';
  int k = 0;
  for (size_t i = 0; i + 1 < n && k < 16; i++) {
    int hi = hexval(text[i]), lo = hexval(text[i + 1]);
    if (hi < 0 || lo < 0)
      continue;
    out[k++] = (uint8_t)(hi << 4 | lo);
    i++;
  }
  return k == 16 ? 0 : SPOT_ENOTFOUND;
}

static spot_io_t posix_io = {
    .open = px_open,
    .close = px_close,
    .size = px_size,
    .read = px_read,
    .write = px_write,
    .allocate = px_allocate,
    .map = px_map,
    .unmap = px_unmap,
    .sync = px_sync,
    .lock = px_lock,
    .rename = px_rename,
    .remove = px_remove,
    .boot_id = px_boot_id,
#if SPOT__SYNC_COVERS_MAP
    .flush = NULL, /* fdatasync writes back mapped pages too: the fast path */
#else
    .flush = px_flush,
#endif
};

spot_io_t *spot_io_posix(void) { return &posix_io; }

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14; older kernels refuse it with EINVAL, which is ignored */
#endif

void spot__prefault(void *addr, size_t len) {
  long page = sysconf(_SC_PAGESIZE);
  uintptr_t a = (uintptr_t)addr, start = a & ~((uintptr_t)page - 1);
  if (len > 0)
    (void)madvise((void *)start, len + (a - start), MADV_POPULATE_WRITE);
}
