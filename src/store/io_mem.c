/*
 * io_mem.c: spot_io_mem, an in-memory spot_io_t with fault injection and power cuts (spot/io_mem.h), for the
 * store's crash, power-cut and I/O-error tests and for fuzzing without touching a disk.
 *
 * A file keeps two images: `cache` (what handles read, write and map) and `disk` (what a power cut leaves). sync
 * copies to disk the sectors written with write() or handed to flush() since the last sync, and only those: bytes
 * stored through the map and never flushed stay unsynced, as POSIX allows (platform/platform.h), so the tests
 * catch a store that forgets to flush what it wrote. A power cut decides, sector by sector, what of the unsynced bytes reached the disk (new,
 * old, or a torn mix), makes that the new cache, and turns every open handle stale: stale handles fail with
 * SPOT_EIO, but their maps stay writable (into a retired buffer) so threads racing the cut never fault. Retired
 * buffers are freed with the io.
 */
#include <stdlib.h>
#include <string.h>

#include "platform/platform.h"
#include "spot/error.h"
#include "spot/io_mem.h"

#define SECTOR 512u
#define ALIGN 4096u

typedef struct retired {
  void *p;
  struct retired *next;
} retired_t;

typedef struct memfile {
  char *path;
  uint8_t *cache, *disk;
  uint8_t *ready;              /* per sector: written with write() or flushed since the last sync */
  size_t size, disk_size, cap; /* cap: bytes allocated for cache and for disk */
  int shared, excl;            /* lock holders (fresh handles only) */
  struct memfile *next;
} memfile_t;

typedef struct memio {
  spot_io_t io; /* first: a spot_io_t * is a memio_t * */
  spot__mutex_t mu;
  spot__cond_t cv;
  memfile_t *files;
  retired_t *retired;
  uint64_t rng;
  uint64_t ops, fail_at, syncs, cut_at_sync, epoch;
  int fail_kind, sticky;
} memio_t;

struct spot_file {
  memio_t *m;
  memfile_t *f;
  uint64_t epoch;
  int lock; /* 0, SPOT_IO_LOCK_SHARED or SPOT_IO_LOCK_EXCL_TRY */
};

static uint64_t rnd(memio_t *m) { /* splitmix64 */
  uint64_t z = (m->rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static void retire(memio_t *m, void *p) {
  retired_t *r = malloc(sizeof *r);
  if (r == NULL) {
    return; /* leak rather than free memory a stale map may still point into */
  }
  r->p = p;
  r->next = m->retired;
  m->retired = r;
}

static memfile_t *find(memio_t *m, const char *path) {
  for (memfile_t *f = m->files; f; f = f->next)
    if (strcmp(f->path, path) == 0)
      return f;
  return NULL;
}

/* Counts one operation and says whether it must fail: 0, or the fault kind. Caller holds mu. */
static int fault(memio_t *m) {
  m->ops++;
  if (m->fail_at && (m->ops == m->fail_at || (m->sticky && m->ops > m->fail_at)))
    return m->fail_kind;
  return 0;
}

static int fault_rc(int kind, int space_op) {
  return (kind == SPOT_IO_MEM_FAIL_ENOSPC && space_op) ? SPOT_ENOSPC : SPOT_EIO;
}

/* Grows cache and disk buffers to hold n bytes (aligned, zero-filled). Caller holds mu. */
static int reserve(memio_t *m, memfile_t *f, size_t n) {
  if (n <= f->cap)
    return 0;
  size_t cap = (n + ALIGN - 1) / ALIGN * ALIGN;
  uint8_t *c = aligned_alloc(ALIGN, cap), *d = aligned_alloc(ALIGN, cap), *r = calloc(cap / SECTOR, 1);
  if (c == NULL || d == NULL || r == NULL) {
    free(c);
    free(d);
    free(r);
    return SPOT_ENOMEM;
  }
  memset(c, 0, cap);
  memset(d, 0, cap);
  if (f->cache) {
    memcpy(c, f->cache, f->cap);
    memcpy(d, f->disk, f->cap);
    memcpy(r, f->ready, f->cap / SECTOR);
    retire(m, f->cache); /* a map may point into it */
    free(f->disk);
    free(f->ready);
  }
  f->cache = c;
  f->disk = d;
  f->ready = r;
  f->cap = cap;
  return 0;
}

static int stale(spot_file_t *h) { return h->epoch != h->m->epoch; }

/* Marks the sectors holding [off, off + n) for the next sync. Caller holds mu; the range is inside cap. */
static void mark_ready(memfile_t *f, uint64_t off, uint64_t n) {
  for (uint64_t sec = off / SECTOR; n > 0 && sec * SECTOR < off + n; sec++)
    f->ready[sec] = 1;
}

static int m_open(spot_io_t *io, const char *path, unsigned flags, spot_file_t **out) {
  memio_t *m = (memio_t *)io;
  int rc = 0;
  spot__mutex_lock(&m->mu);
  int k = fault(m);
  k = k == SPOT_IO_MEM_FAIL_SHORT ? 0 : k; /* short writes affect writes only */
  memfile_t *f = find(m, path);
  spot_file_t *h = NULL;
  if (k) {
    rc = fault_rc(k, 0);
  } else if (f && (flags & SPOT_IO_CREATE) && (flags & SPOT_IO_EXCL)) {
    rc = SPOT_EEXIST;
  } else if (!f && !(flags & SPOT_IO_CREATE)) {
    rc = SPOT_ENOTFOUND;
  } else if (!f) {
    f = calloc(1, sizeof *f);
    if (f == NULL || (f->path = strdup(path)) == NULL) {
      free(f);
      rc = SPOT_ENOMEM;
    } else {
      f->next = m->files;
      m->files = f;
    }
  }
  if (rc == 0 && (h = calloc(1, sizeof *h)) == NULL)
    rc = SPOT_ENOMEM;
  if (rc == 0) {
    h->m = m;
    h->f = f;
    h->epoch = m->epoch;
    *out = h;
  }
  spot__mutex_unlock(&m->mu);
  return rc;
}

static void unlock_locked(spot_file_t *h) {
  if (!stale(h)) {
    if (h->lock == SPOT_IO_LOCK_SHARED)
      h->f->shared--;
    else if (h->lock == SPOT_IO_LOCK_EXCL_TRY)
      h->f->excl = 0;
  }
  h->lock = 0;
  spot__cond_broadcast(&h->m->cv);
}

static int m_close(spot_file_t *h) {
  memio_t *m = h->m;
  spot__mutex_lock(&m->mu);
  unlock_locked(h);
  spot__mutex_unlock(&m->mu);
  free(h);
  return 0;
}

#define ENTER(h, space_op)                  \
  memio_t *m = (h)->m;                      \
  spot__mutex_lock(&m->mu);                 \
  int kind_ = fault(m);                     \
  if (stale(h) || (kind_ && kind_ != SPOT_IO_MEM_FAIL_SHORT)) { \
    spot__mutex_unlock(&m->mu);             \
    return stale(h) ? SPOT_EIO : fault_rc(kind_, space_op); \
  }

static int m_size(spot_file_t *h, uint64_t *out) {
  ENTER(h, 0);
  *out = h->f->size;
  spot__mutex_unlock(&m->mu);
  return 0;
}

static int m_read(spot_file_t *h, uint64_t off, void *buf, size_t n, size_t *got) {
  ENTER(h, 0);
  size_t g = 0;
  if (off < h->f->size) {
    g = h->f->size - (size_t)off;
    if (g > n)
      g = n;
    memcpy(buf, h->f->cache + off, g);
  }
  *got = g;
  spot__mutex_unlock(&m->mu);
  return 0;
}

static int m_write(spot_file_t *h, uint64_t off, const void *buf, size_t n, size_t *put) {
  ENTER(h, 1);
  if (kind_ == SPOT_IO_MEM_FAIL_SHORT && n > 1)
    n = 1 + (size_t)(rnd(m) % (n - 1));
  int rc = reserve(m, h->f, (size_t)off + n);
  if (rc == 0) {
    memcpy(h->f->cache + off, buf, n);
    mark_ready(h->f, off, n);
    if (off + n > h->f->size)
      h->f->size = (size_t)off + n;
    *put = n;
  }
  spot__mutex_unlock(&m->mu);
  return rc;
}

static int m_allocate(spot_file_t *h, uint64_t size) {
  ENTER(h, 1);
  int rc = reserve(m, h->f, (size_t)size);
  if (rc == 0 && size > h->f->size)
    h->f->size = (size_t)size;
  spot__mutex_unlock(&m->mu);
  return rc;
}

static int m_map(spot_file_t *h, uint64_t size, void **addr) {
  ENTER(h, 0);
  int rc = size > h->f->size ? SPOT_EINVAL : 0;
  if (rc == 0)
    *addr = h->f->cache;
  spot__mutex_unlock(&m->mu);
  return rc;
}

static int m_unmap(spot_file_t *h, void *addr, uint64_t size) { return 0; }

static int m_flush(spot_file_t *h, uint64_t off, uint64_t len) {
  ENTER(h, 0);
  int rc = off > h->f->size || len > h->f->size - off ? SPOT_EINVAL : 0;
  if (rc == 0)
    mark_ready(h->f, off, len);
  spot__mutex_unlock(&m->mu);
  return rc;
}

/* Takes the unsynced sectors of f to disk at random (new, old or torn), as a power cut leaves them. */
static void settle(memio_t *m, memfile_t *f) {
  size_t n = f->size > f->disk_size ? f->size : f->disk_size;
  for (size_t off = 0; off < n; off += SECTOR) {
    size_t len = n - off < SECTOR ? n - off : SECTOR;
    if (memcmp(f->cache + off, f->disk + off, len) == 0)
      continue;
    switch (rnd(m) % 4) {
    case 0: /* never written */
      break;
    case 1:
    case 2: /* written */
      memcpy(f->disk + off, f->cache + off, len);
      break;
    default: { /* torn: a prefix of the new bytes, then old ones */
      size_t cut = (size_t)(rnd(m) % len);
      memcpy(f->disk + off, f->cache + off, cut);
    }
    }
  }
  if (f->size > f->disk_size && rnd(m) % 2)
    f->disk_size = f->size;
}

static void power_cut_locked(memio_t *m) {
  for (memfile_t *f = m->files; f; f = f->next) {
    if (f->cache == NULL)
      continue;
    settle(m, f);
    uint8_t *c = aligned_alloc(ALIGN, f->cap);
    if (c == NULL)
      abort(); /* a test helper out of memory: nothing sensible to simulate */
    memcpy(c, f->disk, f->cap);
    retire(m, f->cache);
    f->cache = c;
    memset(f->ready, 0, f->cap / SECTOR);
    f->size = f->disk_size;
    f->shared = f->excl = 0;
  }
  m->epoch++;
  spot__cond_broadcast(&m->cv);
}

static int m_sync(spot_file_t *h) {
  ENTER(h, 0);
  m->syncs++;
  if (m->cut_at_sync && m->syncs == m->cut_at_sync) {
    power_cut_locked(m);
    spot__mutex_unlock(&m->mu);
    return SPOT_EIO;
  }
  memfile_t *f = h->f;
  for (size_t sec = 0; sec < f->cap / SECTOR; sec++)
    if (f->ready[sec]) {
      memcpy(f->disk + sec * SECTOR, f->cache + sec * SECTOR, SECTOR);
      f->ready[sec] = 0;
    }
  f->disk_size = f->size;
  spot__mutex_unlock(&m->mu);
  return 0;
}

static int m_lock(spot_file_t *h, int mode) {
  memio_t *m = h->m;
  spot__mutex_lock(&m->mu);
  if (stale(h)) {
    spot__mutex_unlock(&m->mu);
    return SPOT_EIO;
  }
  if (mode != SPOT_IO_UNLOCK) {
    int k = fault(m);
    if (k && k != SPOT_IO_MEM_FAIL_SHORT) {
      spot__mutex_unlock(&m->mu);
      return SPOT_EIO;
    }
  }
  int rc = 0;
  memfile_t *f = h->f;
  if (mode == SPOT_IO_UNLOCK) {
    unlock_locked(h);
  } else if (mode == SPOT_IO_LOCK_EXCL_TRY) {
    int others = f->shared - (h->lock == SPOT_IO_LOCK_SHARED) + (f->excl && h->lock != SPOT_IO_LOCK_EXCL_TRY);
    if (others > 0) {
      rc = SPOT_EBUSY;
    } else {
      unlock_locked(h);
      f->excl = 1;
      h->lock = SPOT_IO_LOCK_EXCL_TRY;
    }
  } else {
    if (h->lock == SPOT_IO_LOCK_EXCL_TRY) {
      f->excl = 0;
      h->lock = 0;
    }
    while (f->excl && !stale(h))
      spot__cond_wait(&m->cv, &m->mu);
    if (stale(h)) {
      rc = SPOT_EIO;
    } else if (h->lock != SPOT_IO_LOCK_SHARED) {
      f->shared++;
      h->lock = SPOT_IO_LOCK_SHARED;
    }
    spot__cond_broadcast(&m->cv);
  }
  spot__mutex_unlock(&m->mu);
  return rc;
}

static int m_rename(spot_io_t *io, const char *from, const char *to) {
  memio_t *m = (memio_t *)io;
  int rc = 0;
  spot__mutex_lock(&m->mu);
  int k = fault(m);
  k = k == SPOT_IO_MEM_FAIL_SHORT ? 0 : k;
  memfile_t *f = find(m, from);
  char *p = NULL;
  if (k)
    rc = fault_rc(k, 0);
  else if (f == NULL)
    rc = SPOT_ENOTFOUND;
  else if (find(m, to))
    rc = SPOT_EEXIST;
  else if ((p = strdup(to)) == NULL)
    rc = SPOT_ENOMEM;
  if (rc == 0) {
    free(f->path);
    f->path = p;
  }
  spot__mutex_unlock(&m->mu);
  return rc;
}

static int m_remove(spot_io_t *io, const char *path) {
  memio_t *m = (memio_t *)io;
  spot__mutex_lock(&m->mu);
  int k = fault(m);
  k = k == SPOT_IO_MEM_FAIL_SHORT ? 0 : k;
  int rc = k ? fault_rc(k, 0) : SPOT_ENOTFOUND;
  for (memfile_t **pp = &m->files; !k && *pp; pp = &(*pp)->next) {
    if (strcmp((*pp)->path, path) == 0) {
      memfile_t *f = *pp;
      *pp = f->next;
      if (f->cache)
        retire(m, f->cache); /* open handles may still map it */
      free(f->disk);
      free(f->ready);
      free(f->path);
      free(f);
      rc = 0;
      break;
    }
  }
  spot__mutex_unlock(&m->mu);
  return rc;
}

static int m_boot_id(spot_io_t *io, uint8_t out[16]) {
  memio_t *m = (memio_t *)io;
  spot__mutex_lock(&m->mu);
  memset(out, 0, 16);
  memcpy(out, "memboot", 7);
  for (int i = 0; i < 8; i++)
    out[8 + i] = (uint8_t)(m->epoch >> (8 * i));
  spot__mutex_unlock(&m->mu);
  return 0;
}

spot_io_t *spot_io_mem_new(uint64_t seed) {
  memio_t *m = calloc(1, sizeof *m);
  if (m == NULL)
    return NULL;
  m->io = (spot_io_t){.open = m_open,
                      .close = m_close,
                      .size = m_size,
                      .read = m_read,
                      .write = m_write,
                      .allocate = m_allocate,
                      .map = m_map,
                      .unmap = m_unmap,
                      .sync = m_sync,
                      .lock = m_lock,
                      .rename = m_rename,
                      .remove = m_remove,
                      .boot_id = m_boot_id,
                      .flush = m_flush};
  spot__mutex_init(&m->mu);
  spot__cond_init(&m->cv);
  m->rng = seed;
  m->epoch = 1;
  return &m->io;
}

void spot_io_mem_free(spot_io_t *io) {
  memio_t *m = (memio_t *)io;
  if (m == NULL)
    return;
  while (m->files) {
    memfile_t *f = m->files;
    m->files = f->next;
    free(f->cache);
    free(f->disk);
    free(f->ready);
    free(f->path);
    free(f);
  }
  while (m->retired) {
    retired_t *r = m->retired;
    m->retired = r->next;
    free(r->p);
    free(r);
  }
  spot__cond_destroy(&m->cv);
  spot__mutex_destroy(&m->mu);
  free(m);
}

void spot_io_mem_fail_at(spot_io_t *io, uint64_t n, int kind, int sticky) {
  memio_t *m = (memio_t *)io;
  spot__mutex_lock(&m->mu);
  m->ops = 0;
  m->fail_at = n;
  m->fail_kind = kind;
  m->sticky = sticky;
  spot__mutex_unlock(&m->mu);
}

uint64_t spot_io_mem_ops(spot_io_t *io) {
  memio_t *m = (memio_t *)io;
  spot__mutex_lock(&m->mu);
  uint64_t n = m->ops;
  spot__mutex_unlock(&m->mu);
  return n;
}

uint64_t spot_io_mem_syncs(spot_io_t *io) {
  memio_t *m = (memio_t *)io;
  spot__mutex_lock(&m->mu);
  uint64_t n = m->syncs;
  spot__mutex_unlock(&m->mu);
  return n;
}

void spot_io_mem_power_cut(spot_io_t *io) {
  memio_t *m = (memio_t *)io;
  spot__mutex_lock(&m->mu);
  power_cut_locked(m);
  spot__mutex_unlock(&m->mu);
}

void spot_io_mem_power_cut_at_sync(spot_io_t *io, uint64_t n) {
  memio_t *m = (memio_t *)io;
  spot__mutex_lock(&m->mu);
  m->cut_at_sync = n;
  spot__mutex_unlock(&m->mu);
}

int spot_io_mem_put_file(spot_io_t *io, const char *path, const void *data, size_t n) {
  memio_t *m = (memio_t *)io;
  spot__mutex_lock(&m->mu);
  memfile_t *f = find(m, path);
  int rc = 0;
  if (f == NULL) {
    f = calloc(1, sizeof *f);
    if (f == NULL || (f->path = strdup(path)) == NULL) {
      free(f);
      rc = SPOT_ENOMEM;
    } else {
      f->next = m->files;
      m->files = f;
    }
  }
  if (rc == 0)
    rc = reserve(m, f, n ? n : 1);
  if (rc == 0) {
    memset(f->cache, 0, f->cap);
    if (n)
      memcpy(f->cache, data, n);
    memcpy(f->disk, f->cache, f->cap);
    memset(f->ready, 0, f->cap / SECTOR);
    f->size = f->disk_size = n;
  }
  spot__mutex_unlock(&m->mu);
  return rc;
}

int spot_io_mem_get_file(spot_io_t *io, const char *path, void **data, size_t *n) {
  memio_t *m = (memio_t *)io;
  spot__mutex_lock(&m->mu);
  memfile_t *f = find(m, path);
  if (f) {
    *data = f->cache;
    *n = f->size;
  }
  spot__mutex_unlock(&m->mu);
  return f ? 0 : SPOT_ENOTFOUND;
}
