/*
 * apps/vquery/tests/vqtest.h: what the vquery tests share (header only): the photographs, laid out by
 * scripts/vquery-data.sh without installing anything, and a library built from them with `spot vquery library build`
 * once and cached under $SPOT_TEST_TMP/vq-cache (rebuilt when spot-vquery is newer than it). Concurrent test
 * processes (ctest -j) take an exclusive flock on vq-cache/lock around the check and the build, so one builds and the
 * others wait for it and reuse its file; the build writes a temporary file renamed into place, so a crashed build
 * never leaves a half-written library behind.
 */
#ifndef VQTEST_H
#define VQTEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support.h"

typedef struct vqt_data {
  char library_dir[4096]; /* the library's photographs */
  char train_dir[4096];   /* the training images */
  char vql[4096];         /* the cached library file */
} vqt_data_t;

static inline const char *vqt_bin(void) {
  const char *b = getenv("VQ_BIN");
  return b && b[0] ? b : "spot-vquery";
}

/* Fills d's library_dir and train_dir (not vql); 0, or -1 after printing why (the photographs missing: the message
 * names scripts/vquery-data.sh). */
static inline int vqt_photos(vqt_data_t *d) {
  static char out[4096], err[8192];
  const char *src = getenv("SPOT_SRC");
  if (!src || !src[0])
    src = ".";
  const char *dir = spot_test_dir("vqdata");
  int st = spot_test_sh(out, sizeof out, err, sizeof err, "VQ_DATA_NO_INSTALL=1 bash '%s/scripts/vquery-data.sh' '%s'",
                        src, dir);
  if (st != 0) {
    fprintf(stderr, "  the photographs are missing: run `bash scripts/vquery-data.sh DIR` as root once (%s)\n", err);
    return -1;
  }
  snprintf(d->library_dir, sizeof d->library_dir, "%s/library", dir);
  snprintf(d->train_dir, sizeof d->train_dir, "%s/train", dir);
  d->vql[0] = '\0';
  return 0;
}

/* Fills d, building the cached library if needed; 0, or -1 after printing why. */
static inline int vqt_data(vqt_data_t *d) {
  static char out[4096], err[8192];
  const char *tmp = getenv("SPOT_TEST_TMP");
  if (!tmp || !tmp[0])
    tmp = "/tmp";
  if (vqt_photos(d) != 0)
    return -1;
  int st;
  char cache[3000];
  snprintf(cache, sizeof cache, "%s/vq-cache", tmp);
  mkdir(tmp, 0755);
  mkdir(cache, 0755);
  snprintf(d->vql, sizeof d->vql, "%s/library.vql", cache);
  char lock[3100];
  snprintf(lock, sizeof lock, "%s/lock", cache);
  int fd = open(lock, O_RDWR | O_CREAT, 0644);
  if (fd < 0 || flock(fd, LOCK_EX) != 0) {
    fprintf(stderr, "  cannot lock %s (the shared test library's lock)\n", lock);
    if (fd >= 0)
      close(fd);
    return -1;
  }
  struct stat sv, sb;
  if (stat(d->vql, &sv) == 0 && stat(vqt_bin(), &sb) == 0 && sv.st_mtime > sb.st_mtime) {
    close(fd); /* releases the lock */
    return 0;
  }
  st = spot_test_sh(out, sizeof out, err, sizeof err,
                    "'%s' library build --train '%s' --images '%s' --out '%s/building.vql' && mv '%s/building.vql' '%s'",
                    vqt_bin(), d->train_dir, d->library_dir, cache, cache, d->vql);
  close(fd);
  if (st != 0) {
    fprintf(stderr, "  library build failed (%d): %s\n", st, err);
    return -1;
  }
  printf("  %s", out);
  return 0;
}

#endif
