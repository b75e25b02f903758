/*
 * apps/vquery/library.c: FILE.vql, a library of photographs' descriptors with the model that made them (layout in
 * library.h). Writing goes to a temporary file beside the target, fsync, rename, fsync of the directory: a reader
 * sees the old file or the whole new one. Opening maps the file read-only and checks everything before trusting it
 * (magic, version, byte order, sizes, both checksums, every name's NUL), so a damaged, truncated or foreign file is
 * refused with a line naming it and saying how to rebuild it. Writing builds the coarse quantiser of the two-stage
 * search (match_ivf.c) for a large library and stores the entries grouped by its lists.
 */
#include "library.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "match_index.h"
#include "vquery.h"

struct vq_library {
  void *map;
  size_t size;
  size_t count;
  const vq_model_t *model;
  const char *names; /* count x VQ_NAME_MAX */
  const float *desc; /* count x VQ_DIM */
  vq_index_t index;  /* pointers into the mapping */
};

#define REBUILD "rebuild it with `spot vquery library build --train DIR --images DIR --out %s`"

static uint64_t align64(uint64_t x) { return (x + 63) & ~(uint64_t)63; }

static void layout(vq_lib_header_t *h, size_t count, uint32_t nlist) {
  memset(h, 0, sizeof *h);
  memcpy(h->magic, VQ_LIB_MAGIC, sizeof VQ_LIB_MAGIC);
  h->version = VQ_LIB_VERSION;
  h->bom = VQ_LIB_BOM;
  h->header_size = VQ_LIB_HEADER;
  h->dim = VQ_DIM;
  h->pca_dim = VQ_PCA_DIM;
  h->centres = VQ_CENTRES;
  h->name_max = VQ_NAME_MAX;
  h->model_size = sizeof(vq_model_t);
  h->count = count;
  h->model_off = align64(VQ_LIB_HEADER);
  h->names_off = align64(h->model_off + sizeof(vq_model_t));
  h->desc_off = align64(h->names_off + (uint64_t)count * VQ_NAME_MAX);
  h->nlist = nlist;
  h->nprobe = nlist ? (nlist + VQ_IVF_PROBE_DIV - 1) / VQ_IVF_PROBE_DIV : 0;
  h->cent_off = align64(h->desc_off + (uint64_t)count * VQ_DIM * sizeof(float));
  h->lists_off = align64(h->cent_off + (uint64_t)nlist * VQ_DIM * sizeof(float));
  h->file_size = h->lists_off + ((uint64_t)nlist + 1) * sizeof(uint32_t);
}

static int write_all(int fd, const void *p, size_t n, uint32_t *crc, const char *path) {
  const char *b = p;
  if (crc)
    *crc = vq_crc32c(*crc, p, n);
  while (n) {
    ssize_t w = write(fd, b, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      return spot_fail(errno == ENOSPC ? SPOT_ENOSPC : SPOT_EIO, "cannot write %s: %s", path, strerror(errno));
    b += w;
    n -= (size_t)w;
  }
  return 0;
}

static int write_zeros(int fd, size_t n, uint32_t *crc, const char *path) {
  static const char zeros[64];
  return n ? write_all(fd, zeros, n, crc, path) : 0;
}

int vq_library_write(const char *path, const vq_model_t *model, const char *const *names, const float *desc,
                     size_t count) {
  return vq_library_write_index(path, model, names, desc, count, VQ_NLIST_AUTO);
}

int vq_library_write_index(const char *path, const vq_model_t *model, const char *const *names, const float *desc,
                           size_t count, uint32_t nlist) {
  char tmp[4096];
  vq_lib_header_t h;
  uint32_t crc = 0;
  int rc = 0, fd = -1;
  char (*nm)[VQ_NAME_MAX] = NULL;
  vq_index_built_t *ix = NULL;
  if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
    return spot_fail(SPOT_EINVAL, "library path too long: %s", path);
  for (size_t i = 0; i < count; i++)
    if (strlen(names[i]) >= VQ_NAME_MAX)
      return spot_fail(SPOT_EINVAL, "image name '%s' is longer than %d bytes: rename the file", names[i],
                       VQ_NAME_MAX - 1);
  if ((rc = vq_index_build(desc, count, nlist, 1, &ix)) < 0)
    return rc;
  nm = calloc(count ? count : 1, VQ_NAME_MAX);
  if (!nm) {
    rc = spot_fail(SPOT_ENOMEM, "no memory for %zu names", count);
    goto fail;
  }
  for (size_t i = 0; i < count; i++) /* the names follow their descriptors into list order */
    memcpy(nm[i], names[ix->order[i]], strlen(names[ix->order[i]]));
  layout(&h, count, ix->ix.nlist);
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    rc = spot_fail(SPOT_EIO, "cannot create %s: %s", tmp, strerror(errno));
    goto fail;
  }
  if ((rc = write_all(fd, &h, sizeof h, NULL, tmp)) < 0 ||
      (rc = write_zeros(fd, h.model_off - VQ_LIB_HEADER, &crc, tmp)) < 0 ||
      (rc = write_all(fd, model, sizeof *model, &crc, tmp)) < 0 ||
      (rc = write_zeros(fd, h.names_off - h.model_off - sizeof *model, &crc, tmp)) < 0 ||
      (rc = write_all(fd, nm, count * VQ_NAME_MAX, &crc, tmp)) < 0 ||
      (rc = write_zeros(fd, h.desc_off - h.names_off - count * VQ_NAME_MAX, &crc, tmp)) < 0 ||
      (rc = write_all(fd, ix->desc, count * VQ_DIM * sizeof *desc, &crc, tmp)) < 0 ||
      (rc = write_zeros(fd, h.cent_off - h.desc_off - count * VQ_DIM * sizeof *desc, &crc, tmp)) < 0 ||
      (rc = write_all(fd, ix->centroids, (size_t)h.nlist * VQ_DIM * sizeof(float), &crc, tmp)) < 0 ||
      (rc = write_zeros(fd, h.lists_off - h.cent_off - (size_t)h.nlist * VQ_DIM * sizeof(float), &crc, tmp)) < 0 ||
      (rc = write_all(fd, ix->list_start, ((size_t)h.nlist + 1) * sizeof(uint32_t), &crc, tmp)) < 0)
    goto fail;
  h.payload_crc = crc;
  h.header_crc = vq_crc32c(0, &h, sizeof h);
  if (pwrite(fd, &h, sizeof h, 0) != (ssize_t)sizeof h || fsync(fd) != 0) {
    rc = spot_fail(SPOT_EIO, "cannot write %s: %s", tmp, strerror(errno));
    goto fail;
  }
  if (close(fd) != 0) {
    fd = -1;
    rc = spot_fail(SPOT_EIO, "cannot write %s: %s", tmp, strerror(errno));
    goto fail;
  }
  fd = -1;
  if (rename(tmp, path) != 0) {
    rc = spot_fail(SPOT_EIO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
    goto fail;
  }
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", path);
  int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) { /* the rename itself durable; a directory that cannot be opened just skips this */
    fsync(dfd);
    close(dfd);
  }
  free(nm);
  vq_index_free(ix);
  return 0;
fail:
  if (fd >= 0)
    close(fd);
  unlink(tmp);
  free(nm);
  vq_index_free(ix);
  return rc;
}

/* Checks a mapped file; 0 or SPOT_ECORRUPT / SPOT_EVERSION with the detail line naming path. */
static int verify(const char *path, const unsigned char *p, size_t size) {
  vq_lib_header_t h, want;
  if (size < sizeof VQ_LIB_MAGIC || memcmp(p, VQ_LIB_MAGIC, sizeof VQ_LIB_MAGIC) != 0)
    return spot_fail(SPOT_ECORRUPT, "%s is not a vquery library (no SPOTVQL header): give a FILE.vql, or " REBUILD,
                     path, path);
  if (size < sizeof h)
    return spot_fail(SPOT_ECORRUPT, "%s is truncated inside its header (%zu bytes): " REBUILD, path, size, path);
  memcpy(&h, p, sizeof h);
  if (h.bom != VQ_LIB_BOM)
    return spot_fail(SPOT_EVERSION, "%s was written on a host of the other byte order: " REBUILD " here", path, path);
  if (h.version != VQ_LIB_VERSION)
    return spot_fail(SPOT_EVERSION, "%s is a version %u library, this program reads version %u: " REBUILD, path,
                     h.version, VQ_LIB_VERSION, path);
  uint32_t hcrc = h.header_crc;
  h.header_crc = 0;
  if (vq_crc32c(0, &h, sizeof h) != hcrc)
    return spot_fail(SPOT_ECORRUPT, "%s is damaged (header checksum mismatch): " REBUILD, path, path);
  if (h.count > (UINT64_MAX / 2) / (VQ_DIM * sizeof(float) + VQ_NAME_MAX))
    return spot_fail(SPOT_ECORRUPT, "%s is damaged (impossible entry count %llu): " REBUILD, path,
                     (unsigned long long)h.count, path);
  if (h.nlist > h.count || h.nlist > VQ_IVF_MAX_LISTS)
    return spot_fail(SPOT_ECORRUPT, "%s is damaged (%u lists for %llu entries): " REBUILD, path, h.nlist,
                     (unsigned long long)h.count, path);
  layout(&want, (size_t)h.count, h.nlist);
  if (h.header_size != want.header_size || h.dim != want.dim || h.pca_dim != want.pca_dim ||
      h.centres != want.centres || h.name_max != want.name_max || h.model_size != want.model_size ||
      h.model_off != want.model_off || h.names_off != want.names_off || h.desc_off != want.desc_off ||
      h.cent_off != want.cent_off || h.lists_off != want.lists_off || h.file_size != want.file_size)
    return spot_fail(SPOT_EVERSION, "%s has a layout this program does not read (descriptor %u x %u, names %u): " REBUILD,
                     path, h.centres, h.pca_dim, h.name_max, path);
  if (size != h.file_size)
    return spot_fail(SPOT_ECORRUPT, "%s is %s: %zu bytes where its header says %llu: " REBUILD, path,
                     size < h.file_size ? "truncated" : "too long", size, (unsigned long long)h.file_size, path);
  if (vq_crc32c(0, p + VQ_LIB_HEADER, size - VQ_LIB_HEADER) != h.payload_crc)
    return spot_fail(SPOT_ECORRUPT, "%s is damaged (payload checksum mismatch): " REBUILD, path, path);
  for (uint64_t i = 0; i < h.count; i++)
    if (!memchr(p + h.names_off + i * VQ_NAME_MAX, 0, VQ_NAME_MAX))
      return spot_fail(SPOT_ECORRUPT, "%s is damaged (entry %llu has no name): " REBUILD, path,
                       (unsigned long long)i, path);
  /* the lists must cover the entries in order: the matcher indexes rows with them */
  const uint32_t *lists = (const uint32_t *)(const void *)(p + h.lists_off);
  if (h.nprobe > h.nlist || (h.nlist > 0 && h.nprobe == 0) || lists[0] != 0 ||
      (h.nlist > 0 && lists[h.nlist] != h.count))
    return spot_fail(SPOT_ECORRUPT, "%s is damaged (its list table does not cover its %llu entries): " REBUILD, path,
                     (unsigned long long)h.count, path);
  for (uint32_t l = 0; l < h.nlist; l++)
    if (lists[l + 1] < lists[l])
      return spot_fail(SPOT_ECORRUPT, "%s is damaged (list %u ends before it starts): " REBUILD, path, l, path);
  return 0;
}

int vq_library_open(const char *path, vq_library_t **out) {
  struct stat st;
  void *map = MAP_FAILED;
  int rc;
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return spot_fail(errno == ENOENT ? SPOT_ENOTFOUND : SPOT_EIO,
                     "cannot open library %s: %s (build one with `spot vquery library build`)", path, strerror(errno));
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    rc = spot_fail(SPOT_EINVAL, "library %s is not a regular file: give a FILE.vql", path);
    goto fail;
  }
  if (st.st_size == 0) {
    rc = spot_fail(SPOT_ECORRUPT, "library %s is empty: " REBUILD, path, path);
    goto fail;
  }
  map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (map == MAP_FAILED) {
    rc = spot_fail(SPOT_EIO, "cannot map library %s: %s", path, strerror(errno));
    goto fail;
  }
  if ((rc = verify(path, map, (size_t)st.st_size)) < 0)
    goto fail;
  vq_library_t *lib = malloc(sizeof *lib);
  if (!lib) {
    rc = spot_fail(SPOT_ENOMEM, "no memory to open library %s", path);
    goto fail;
  }
  vq_lib_header_t h;
  memcpy(&h, map, sizeof h);
  lib->map = map;
  lib->size = (size_t)st.st_size;
  lib->count = (size_t)h.count;
  lib->model = (const vq_model_t *)((const char *)map + h.model_off);
  lib->names = (const char *)map + h.names_off;
  lib->desc = (const float *)(const void *)((const char *)map + h.desc_off);
  lib->index = (vq_index_t){.count = lib->count,
                            .desc = lib->desc,
                            .nlist = h.nlist,
                            .nprobe = h.nprobe,
                            .centroids = (const float *)(const void *)((const char *)map + h.cent_off),
                            .list_start = (const uint32_t *)(const void *)((const char *)map + h.lists_off)};
  close(fd);
  *out = lib;
  return 0;
fail:
  if (map != MAP_FAILED)
    munmap(map, (size_t)st.st_size);
  close(fd);
  return rc;
}

void vq_library_close(vq_library_t *lib) {
  if (!lib)
    return;
  munmap(lib->map, lib->size);
  free(lib);
}

const vq_model_t *vq_library_model(const vq_library_t *lib) { return lib->model; }
size_t vq_library_count(const vq_library_t *lib) { return lib->count; }
const char *vq_library_name(const vq_library_t *lib, size_t i) {
  return i < lib->count ? lib->names + i * VQ_NAME_MAX : NULL;
}
const float *vq_library_descriptors(const vq_library_t *lib) { return lib->desc; }
const vq_index_t *vq_library_index(const vq_library_t *lib) { return &lib->index; }

long vq_library_find(const vq_library_t *lib, const char *name) {
  for (size_t i = 0; i < lib->count; i++)
    if (strcmp(lib->names + i * VQ_NAME_MAX, name) == 0)
      return (long)i;
  return -1;
}
