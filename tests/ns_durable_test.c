/*
 * ns_durable_test.c: the namespace's own files across failures. `spot init` on a full disk (ENOSPC injected at
 * every write, allocation, sync, create and rename in turn) fails cleanly, and init again finishes the namespace;
 * an init cut short (a node file or log left empty) is finished, not left half-made. Handler ids survive a power
 * cut (spot_io_mem): an id that marks a durable element is never handed out again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dispatch/dispatch.h"
#include "spot.h"
#include "spot/io_mem.h"
#include "store/store.h"
#include "support.h"
#include "test.h"

/* ---- an io that reports a full disk from its Nth writing operation on ---- */

static struct faulty {
  spot_io_t io;
  uint64_t ops, fail_at;
  int fired;
} faulty;

static int full(void) {
  faulty.ops++;
  if (faulty.fail_at && faulty.ops >= faulty.fail_at) {
    faulty.fired = 1;
    return SPOT_ENOSPC;
  }
  return 0;
}

static int f_open(spot_io_t *io, const char *path, unsigned flags, spot_file_t **out) {
  (void)io;
  if ((flags & SPOT_IO_CREATE) && full())
    return SPOT_ENOSPC;
  return spot_io_posix()->open(spot_io_posix(), path, flags, out);
}
static int f_write(spot_file_t *f, uint64_t off, const void *buf, size_t n, size_t *put) {
  return full() ? SPOT_ENOSPC : spot_io_posix()->write(f, off, buf, n, put);
}
static int f_allocate(spot_file_t *f, uint64_t size) {
  return full() ? SPOT_ENOSPC : spot_io_posix()->allocate(f, size);
}
static int f_sync(spot_file_t *f) { return full() ? SPOT_EIO : spot_io_posix()->sync(f); }
static int f_rename(spot_io_t *io, const char *from, const char *to) {
  (void)io;
  return full() ? SPOT_ENOSPC : spot_io_posix()->rename(spot_io_posix(), from, to);
}
static int f_remove(spot_io_t *io, const char *path) {
  (void)io;
  return spot_io_posix()->remove(spot_io_posix(), path);
}
static int f_boot_id(spot_io_t *io, uint8_t out[16]) {
  (void)io;
  return spot_io_posix()->boot_id(spot_io_posix(), out);
}

static spot_io_t *faulty_io(uint64_t fail_at) {
  faulty.io = *spot_io_posix();
  faulty.io.open = f_open;
  faulty.io.write = f_write;
  faulty.io.allocate = f_allocate;
  faulty.io.sync = f_sync;
  faulty.io.rename = f_rename;
  faulty.io.remove = f_remove;
  faulty.io.boot_id = f_boot_id;
  faulty.ops = 0;
  faulty.fail_at = fail_at;
  faulty.fired = 0;
  return &faulty.io;
}

/* A namespace is whole: it opens, has a node id and its three logs, takes a handler, and .spot holds nothing else. */
static int whole(const char *dir) {
  spot_ns_t *ns;
  if (spot_ns_open(dir, NULL, &ns) != 0)
    return fprintf(stderr, "  open: %s\n", spot_errdetail()), 0;
  spot_log_t *l;
  int ok = spot_ns_node_id(ns) != 0 && spot__nsctx_events(ns, &l) == 0 && spot__nsctx_triggers(ns, &l) == 0 &&
           spot__nsctx_registry(ns, &l) == 0 && spot_ns_register_handler(ns, "h", "") == 0;
  if (!ok)
    fprintf(stderr, "  not whole: %s\n", spot_errdetail());
  spot_ns_close(ns);
  char out[512];
  spot_test_sh(out, sizeof out, NULL, 0, "ls -A %s/.spot | tr '\\n' ' '", dir);
  if (strcmp(out, "bindings.log events.log handlers handlers.log node triggers.log ") != 0)
    return fprintf(stderr, "  .spot holds: %s\n", out), 0;
  return ok;
}

static void test_init_full_disk(void) {
  int failures = 0;
  for (uint64_t n = 1; n < 200; n++) {
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/ns", spot_test_dir("ns-full"));
    int rc = spot__nsctx_init_io(dir, faulty_io(n));
    if (!faulty.fired) {
      CHECK_OK(rc);
      CHECK(whole(dir));
      printf("  a full disk at each of the %llu writing steps of init: each failed cleanly, and init again finished"
             " the namespace\n", (unsigned long long)n - 1);
      CHECK(failures > 5);
      return;
    }
    CHECK(rc != 0);
    failures++;
    spot_ns_t *ns;
    CHECK_RC(spot_ns_open(dir, NULL, &ns), SPOT_ENONS); /* not a namespace yet */
    CHECK(strstr(spot_errdetail(), "spot init") != NULL);
    CHECK_OK(spot_ns_init(dir)); /* space again: init finishes it */
    CHECK(whole(dir));
  }
  CHECK(0); /* init never completed */
}

/* What a power cut after an unsynced init could leave: an empty node file, an empty log, no marker. */
static void test_init_finishes_half_made(void) {
  char dir[4300], out[256];
  snprintf(dir, sizeof dir, "%s/ns", spot_test_dir("ns-half"));
  CHECK_OK(spot_ns_init(dir));
  CHECK_OK(spot_test_sh(out, sizeof out, NULL, 0,
                        "cd %s && rm .spot-namespace && : > .spot/node && : > .spot/events.log && "
                        ": > .spot/triggers.log.tmp-00000000000000ff",
                        dir));
  CHECK_OK(spot_ns_init(dir));
  CHECK(whole(dir));
  CHECK_OK(spot_ns_init(dir)); /* idempotent */
  CHECK(whole(dir));
}

/* ---- handler ids across a power cut ---- */

static void test_handler_ids_survive_power_cut(void) {
  for (uint64_t seed = 1; seed <= 8; seed++) {
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/ns", spot_test_dir("ns-ids"));
    spot_io_t *io = spot_io_mem_new(seed);
    CHECK(io != NULL);
    CHECK_OK(spot__nsctx_init_io(dir, io));
    spot_ns_t *ns;
    CHECK_OK(spot_ns_open(dir, io, &ns));
    spot_log_config_t cfg = {.elem_size = 8, .history = 16, .sync = SPOT_SYNC_ALWAYS};
    CHECK_OK(spot_ns_create_log(ns, "x", &cfg));
    CHECK_OK(spot_ns_register_handler(ns, "a", ""));
    spot__reg_entry_t a;
    CHECK_OK(spot__registry_lookup(ns, "a", &a));
    uint64_t v = 7, seq;
    CHECK_OK(spot_put(ns, "x", &v, 8, "a", NULL, &seq)); /* durable: acknowledged after the sync */
    spot_io_mem_power_cut(io);
    spot_ns_close(ns);
    CHECK_OK(spot_ns_open(dir, io, &ns));
    CHECK_OK(spot_ns_register_handler(ns, "b", ""));
    spot__reg_entry_t b, a2;
    CHECK_OK(spot__registry_lookup(ns, "b", &b));
    CHECK(b.id != a.id); /* before: handlers.log was never synced, and b got a's id */
    CHECK_OK(spot__registry_lookup(ns, "a", &a2));
    CHECK_EQ(a2.id, a.id);
    spot_log_t *x;
    CHECK_OK(spot__ns_log(ns, "x", &x));
    CHECK_EQ(spot__log_pending(x, seq), a.id); /* the durable put still waits for a, by a's id */
    spot_ns_close(ns);
    spot_io_mem_free(io);
  }
}

static const spot_test_t tests[] = {
    {"init_full_disk", test_init_full_disk},
    {"init_finishes_half_made", test_init_finishes_half_made},
    {"handler_ids_survive_power_cut", test_handler_ids_survive_power_cut},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
