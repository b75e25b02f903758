/*
 * store_prefault_test.c: a log handle faults its mapping in one chunk ahead of where it writes (src/store/prefault.c,
 * spot__prefault_ahead; docs/DESIGN.md, "Faulting in ahead"). /proc/self/pagemap tells which pages of a mapping this
 * process has mapped. The first append maps the first two chunks of slots, each append that reserves the first slot
 * of a chunk maps the next chunk, the pages beyond stay unmapped, and the ring's end is never passed; the node's
 * handle (claims and releases of marks) gets its own mapping faulted in the same way. Where the kernel has no
 * MADV_POPULATE_WRITE (before 5.14), or /proc/self/pagemap cannot be read, it is skipped (exit 77).
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

#include "store/log_impl.h"
#include "store/store.h"
#include "spot/log.h"
#include "support.h"
#include "test.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* The fraction of the pages of slots [from, to) of log that this process has mapped (present in its page table,
 * /proc/self/pagemap bit 63): what a prefault does, where page-cache residency (mincore) would also count the
 * kernel's readahead. -1 if it cannot tell. */
static double mapped(spot_log_t *log, uint64_t from, uint64_t to) {
  long page = sysconf(_SC_PAGESIZE);
  uintptr_t a = (uintptr_t)(log->slots + from * log->slot_bytes), b = (uintptr_t)(log->slots + to * log->slot_bytes);
  a = (a + (uintptr_t)page - 1) & ~((uintptr_t)page - 1); /* whole pages inside the range only */
  b &= ~((uintptr_t)page - 1);
  FILE *f = fopen("/proc/self/pagemap", "rb");
  if (b <= a || f == NULL) {
    if (f)
      fclose(f);
    return -1;
  }
  size_t n = (b - a) / (size_t)page, in = 0;
  if (fseeko(f, (off_t)(a / (uintptr_t)page * 8), SEEK_SET) != 0) {
    fclose(f);
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    uint64_t e;
    if (fread(&e, sizeof e, 1, f) != 1) {
      fclose(f);
      return -1;
    }
    in += (e >> 63) & 1;
  }
  fclose(f);
  return (double)in / (double)n;
}

static int populate_supported(void) {
  long page = sysconf(_SC_PAGESIZE);
  void *p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return 0;
  int ok = madvise(p, (size_t)page, MADV_POPULATE_WRITE) == 0;
  munmap(p, (size_t)page);
  return ok;
}

static void test_first_pass(void) {
  if (!populate_supported()) {
    printf("SKIP: this kernel has no MADV_POPULATE_WRITE (Linux 5.14): the store then faults pages in one by one, "
           "and there is nothing to test\n");
    exit(77);
  }
  FILE *pm = fopen("/proc/self/pagemap", "rb");
  if (pm == NULL) {
    printf("SKIP: /proc/self/pagemap cannot be read here (no /proc?): nothing tells which pages are mapped\n");
    exit(77);
  }
  fclose(pm);
  char path[4200];
  snprintf(path, sizeof path, "%s/pf.log", spot_test_dir("prefault"));
  const uint64_t history = 1u << 16; /* 64-byte elements: 80-byte slots, 5 MiB of them */
  spot_log_config_t c = {.elem_size = 64, .history = history, .sync = SPOT_SYNC_NONE};
  CHECK_OK(spot_log_create(path, &c, NULL));
  spot_log_t *log;
  CHECK_OK(spot_log_open(path, 0, NULL, &log, NULL));
  const uint64_t chunk = log->prefault_slots;
  CHECK(chunk >= 2 && (chunk & (chunk - 1)) == 0 && chunk * log->slot_bytes <= (256u << 10));
  CHECK(history >= 8 * chunk);
  /* The open read the slots at `next` (recovery: the first ones, and the kernel maps some neighbours of a page read
   * in); from the second chunk on nothing is mapped yet */
  CHECK(mapped(log, chunk, history) == 0);
  uint8_t e[64];
  memset(e, 7, sizeof e);
  CHECK_OK(spot_log_append(log, e, sizeof e, NULL)); /* number 1, slot 0 */
  CHECK(mapped(log, 0, 2 * chunk) == 1);           /* the first two chunks */
  CHECK(mapped(log, 2 * chunk, history) == 0);     /* nothing beyond them */
  for (uint64_t s = 2; s <= chunk + 1; s++)          /* up to slot `chunk`: the first of chunk 1 */
    CHECK_OK(spot_log_append(log, e, sizeof e, NULL));
  CHECK(mapped(log, 2 * chunk, 3 * chunk) == 1); /* chunk 2, one ahead of the writer */
  CHECK(mapped(log, 3 * chunk, history) == 0);
  printf("  chunks of %llu slots (%llu bytes): faulted in one chunk ahead of the writer\n", (unsigned long long)chunk,
         (unsigned long long)(chunk * log->slot_bytes));
  spot_log_close(log);
}

/* The node's handle (another mapping of the same file) claims and releases marks in ring order: its own mapping
 * is faulted in one chunk ahead of it too, whatever the appender's did. */
static void test_node_handle(void) {
  char path[4200];
  snprintf(path, sizeof path, "%s/node.log", spot_test_dir("prefault-node"));
  spot_log_config_t c = {.elem_size = 64, .history = 1u << 16, .sync = SPOT_SYNC_NONE};
  CHECK_OK(spot_log_create(path, &c, NULL));
  spot_log_t *writer, *node;
  CHECK_OK(spot_log_open(path, 0, NULL, &writer, NULL));
  const uint64_t chunk = writer->prefault_slots;
  uint8_t e[64];
  memset(e, 9, sizeof e);
  for (uint64_t s = 1; s <= chunk + 1; s++)
    CHECK_OK(spot__log_append_pending(writer, e, sizeof e, 1, NULL)); /* marked, as a put's element is */
  CHECK_OK(spot_log_open(path, 0, NULL, &node, NULL));
  CHECK(mapped(node, chunk, c.history) == 0); /* a new mapping: nothing of it mapped past the open's reads */
  CHECK_OK(spot__log_claim(node, 1));
  spot__log_release(node, 1);
  CHECK(mapped(node, 0, 2 * chunk) == 1);
  CHECK(mapped(node, 2 * chunk, c.history) == 0);
  for (uint64_t s = 2; s <= chunk + 1; s++) {
    CHECK_OK(spot__log_claim(node, s));
    spot__log_release(node, s);
  }
  CHECK(mapped(node, 2 * chunk, 3 * chunk) == 1);
  CHECK(mapped(node, 3 * chunk, c.history) == 0);
  spot_log_close(node);
  spot_log_close(writer);
}

/* A ring smaller than two chunks: the first append brings it all in, and no call reaches past its end (mincore of
 * the whole mapping still works, and every slot appends and reads back). */
static void test_small_ring(void) {
  char path[4200];
  snprintf(path, sizeof path, "%s/small.log", spot_test_dir("prefault-small"));
  spot_log_config_t c = {.elem_size = 64, .history = 100, .sync = SPOT_SYNC_NONE};
  CHECK_OK(spot_log_create(path, &c, NULL));
  spot_log_t *log;
  CHECK_OK(spot_log_open(path, 0, NULL, &log, NULL));
  uint8_t e[64];
  for (uint64_t s = 1; s <= 250; s++) { /* round the ring twice and a half */
    memset(e, (int)(s & 0xff), sizeof e);
    uint64_t seq;
    CHECK_OK(spot_log_append(log, e, sizeof e, &seq));
    CHECK_EQ(seq, s);
  }
  CHECK(mapped(log, 0, 100) == 1);
  for (uint64_t s = 151; s <= 250; s++) {
    uint8_t r[64];
    CHECK_OK(spot_log_read(log, s, r, sizeof r));
    CHECK_EQ(r[0], s & 0xff);
  }
  spot_log_close(log);
}

static const spot_test_t tests[] = {
    {"first_pass", test_first_pass},
    {"node_handle", test_node_handle},
    {"small_ring", test_small_ring},
    {NULL, NULL},
};

SPOT_TEST_MAIN(tests)
