/*
 * log_test.c: unit tests of the log store: create and open errors, append/read/latest/earliest, zero padding,
 * ring wrap-around and expiry, iteration, header and slot damage, torn tails, a failed sync, namespaces.
 * Most run on the in-memory io, so they can reach into the file's bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/logfmt.h"
#include "platform/platform.h"
#include "spot/io_mem.h"
#include "spot/log.h"
#include "spot/ns.h"
#include "support.h"
#include "test.h"

static spot_log_config_t cfg(uint32_t size, uint64_t history, spot_sync_t sync) {
  spot_log_config_t c = {.elem_size = size, .history = history, .sync = sync, .batch_us = 100};
  return c;
}

/* The page-cache bytes of a file of the in-memory io. */
static uint8_t *bytes_of(spot_io_t *io, const char *path) {
  void *p = NULL;
  size_t n;
  return spot_io_mem_get_file(io, path, &p, &n) == 0 ? p : NULL;
}

static spot__slot_t *slot_of(uint8_t *file, uint64_t seq) {
  spot__loghdr_t *h = (spot__loghdr_t *)file;
  return (spot__slot_t *)(file + SPOT__HDR_BYTES + ((seq - 1) % h->history) * h->slot_bytes);
}

static void test_create_errors(void) {
  spot_io_t *io = spot_io_mem_new(1);
  spot_log_config_t c = cfg(0, 10, SPOT_SYNC_NONE);
  CHECK_RC(spot_log_create("a", &c, io), SPOT_EINVAL);
  c = cfg(SPOT_ELEM_MAX + 1, 10, SPOT_SYNC_NONE);
  CHECK_RC(spot_log_create("a", &c, io), SPOT_EINVAL);
  c = cfg(16, 0, SPOT_SYNC_NONE);
  CHECK_RC(spot_log_create("a", &c, io), SPOT_EINVAL);
  c = cfg(1 << 20, 1ull << 30, SPOT_SYNC_NONE); /* 1 PiB */
  CHECK_RC(spot_log_create("a", &c, io), SPOT_EINVAL);
  CHECK(strstr(spot_errdetail(), "history") != NULL);
  c = cfg(16, 10, (spot_sync_t)7);
  CHECK_RC(spot_log_create("a", &c, io), SPOT_EINVAL);
  c = cfg(16, 10, SPOT_SYNC_NONE);
  CHECK_OK(spot_log_create("a", &c, io));
  CHECK_RC(spot_log_create("a", &c, io), SPOT_EEXIST);
  spot_log_t *log;
  CHECK_RC(spot_log_open("missing", 0, io, &log, NULL), SPOT_ENOTFOUND);
  spot_sync_t s;
  CHECK_RC(spot_sync_parse("sometimes", &s), SPOT_EINVAL);
  CHECK_OK(spot_sync_parse("batch", &s));
  CHECK_EQ(s, SPOT_SYNC_BATCH);
  spot_io_mem_free(io);
}

static void test_append_read(void) {
  spot_io_t *io = spot_io_mem_new(2);
  spot_log_config_t c = cfg(8, 100, SPOT_SYNC_NONE);
  CHECK_OK(spot_log_create("l", &c, io));
  spot_log_t *log;
  CHECK_OK(spot_log_open("l", 0, io, &log, NULL));
  uint64_t seq, hi, lo;
  CHECK_OK(spot_log_latest(log, &hi));
  CHECK_EQ(hi, 0);
  CHECK_OK(spot_log_earliest(log, &lo));
  CHECK_EQ(lo, 0);
  uint8_t buf[8];
  CHECK_RC(spot_log_read(log, 1, buf, sizeof buf), SPOT_ENOTYET);
  CHECK_RC(spot_log_read(log, 0, buf, sizeof buf), SPOT_ENOTYET);
  CHECK_OK(spot_log_append(log, "abc", 3, &seq));
  CHECK_EQ(seq, 1);
  CHECK_OK(spot_log_append(log, "12345678", 8, &seq));
  CHECK_EQ(seq, 2);
  CHECK_RC(spot_log_append(log, "123456789", 9, &seq), SPOT_ETOOBIG);
  CHECK_OK(spot_log_append(log, NULL, 0, &seq));
  CHECK_EQ(seq, 3);
  CHECK_OK(spot_log_read(log, 1, buf, sizeof buf));
  CHECK(memcmp(buf, "abc\0\0\0\0\0", 8) == 0); /* zero padded */
  CHECK_OK(spot_log_read(log, 2, buf, sizeof buf));
  CHECK(memcmp(buf, "12345678", 8) == 0);
  CHECK_OK(spot_log_read(log, 3, buf, sizeof buf));
  CHECK(memcmp(buf, "\0\0\0\0\0\0\0\0", 8) == 0);
  CHECK_RC(spot_log_read(log, 2, buf, 7), SPOT_EINVAL);
  CHECK_RC(spot_log_read(log, 4, buf, sizeof buf), SPOT_ENOTYET);
  CHECK(strstr(spot_errdetail(), "latest is 3") != NULL);
  CHECK_OK(spot_log_latest(log, &hi));
  CHECK_EQ(hi, 3);
  CHECK_OK(spot_log_earliest(log, &lo));
  CHECK_EQ(lo, 1);
  spot_log_info_t info;
  CHECK_OK(spot_log_info(log, &info));
  CHECK_EQ(info.elem_size, 8);
  CHECK_EQ(info.history, 100);
  CHECK_EQ(info.latest, 3);
  CHECK_OK(spot_log_close(log));
  /* reopen: same contents */
  CHECK_OK(spot_log_open("l", 0, io, &log, NULL));
  CHECK_OK(spot_log_read(log, 2, buf, sizeof buf));
  CHECK(memcmp(buf, "12345678", 8) == 0);
  CHECK_OK(spot_log_append(log, "z", 1, &seq));
  CHECK_EQ(seq, 4);
  spot_log_close(log);
  spot_io_mem_free(io);
}

static void test_ring_wraparound(void) {
  uint64_t histories[] = {1, 2, 3, 7};
  for (size_t k = 0; k < 4; k++) {
    uint64_t H = histories[k];
    spot_io_t *io = spot_io_mem_new(3);
    spot_log_config_t c = cfg(sizeof(uint64_t), H, SPOT_SYNC_NONE);
    CHECK_OK(spot_log_create("r", &c, io));
    spot_log_t *log;
    CHECK_OK(spot_log_open("r", 0, io, &log, NULL));
    for (uint64_t i = 1; i <= 5 * H + 3; i++) {
      uint64_t seq, v = i * 1000 + 7;
      CHECK_OK(spot_log_append(log, &v, sizeof v, &seq));
      CHECK_EQ(seq, i);
      uint64_t lo, hi;
      spot_log_earliest(log, &lo);
      spot_log_latest(log, &hi);
      CHECK_EQ(hi, i);
      CHECK_EQ(lo, i >= H ? i - H + 1 : 1);
      for (uint64_t s = 1; s <= i; s++) {
        uint64_t got = 0;
        int rc = spot_log_read(log, s, &got, sizeof got);
        if (s + H <= i) {
          CHECK_EQ(rc, SPOT_EEXPIRED);
        } else {
          CHECK_EQ(rc, 0);
          CHECK_EQ(got, s * 1000 + 7);
        }
      }
    }
    spot_log_close(log);
    /* the window survives a reopen */
    CHECK_OK(spot_log_open("r", 0, io, &log, NULL));
    uint64_t lo, hi;
    spot_log_earliest(log, &lo);
    spot_log_latest(log, &hi);
    CHECK_EQ(hi, 5 * H + 3);
    CHECK_EQ(lo, hi - H + 1);
    spot_log_close(log);
    spot_io_mem_free(io);
  }
}

typedef struct seen {
  uint64_t first, last, count;
} seen_t;

static int visit(uint64_t seq, const void *data, size_t size, void *arg) {
  seen_t *s = arg;
  uint64_t v;
  memcpy(&v, data, sizeof v);
  if (v != seq * 3 || size != sizeof v)
    return -100;
  if (s->count == 0)
    s->first = seq;
  s->last = seq;
  s->count++;
  return seq == 45 ? 7 : 0;
}

static void test_iterate(void) {
  spot_io_t *io = spot_io_mem_new(4);
  spot_log_config_t c = cfg(8, 20, SPOT_SYNC_NONE);
  CHECK_OK(spot_log_create("i", &c, io));
  spot_log_t *log;
  CHECK_OK(spot_log_open("i", 0, io, &log, NULL));
  for (uint64_t i = 1; i <= 50; i++) {
    uint64_t v = i * 3;
    CHECK_OK(spot_log_append(log, &v, sizeof v, NULL));
  }
  seen_t s = {0};
  CHECK_OK(spot_log_iterate(log, 0, UINT64_MAX, visit, &s) == 7 ? 0 : -1);
  CHECK_EQ(s.first, 31); /* history 20: 31..50 kept; the callback stops at 45 */
  CHECK_EQ(s.last, 45);
  memset(&s, 0, sizeof s);
  CHECK_OK(spot_log_iterate(log, 33, 40, visit, &s));
  CHECK_EQ(s.first, 33);
  CHECK_EQ(s.last, 40);
  CHECK_EQ(s.count, 8);
  memset(&s, 0, sizeof s);
  CHECK_OK(spot_log_iterate(log, 60, 70, visit, &s));
  CHECK_EQ(s.count, 0);
  spot_log_close(log);
  spot_io_mem_free(io);
}

/* Makes a closed log with n elements of 8 bytes (value = seq) in history h; returns its bytes. */
static uint8_t *make_log(spot_io_t *io, const char *path, uint64_t h, uint64_t n, spot_sync_t sync) {
  spot_log_config_t c = cfg(8, h, sync);
  if (spot_log_create(path, &c, io) != 0)
    return NULL;
  spot_log_t *log;
  if (spot_log_open(path, 0, io, &log, NULL) != 0)
    return NULL;
  for (uint64_t i = 1; i <= n; i++)
    if (spot_log_append(log, &i, sizeof i, NULL) != 0)
      return NULL;
  spot_log_close(log);
  return bytes_of(io, path);
}

static void test_header_damage(void) {
  spot_io_t *io = spot_io_mem_new(5);
  uint8_t *f = make_log(io, "h", 10, 3, SPOT_SYNC_NONE);
  CHECK(f != NULL);
  spot__loghdr_t *h = (spot__loghdr_t *)f;
  spot_log_t *log;
  h->magic[0] = 'X';
  CHECK_RC(spot_log_open("h", 0, io, &log, NULL), SPOT_ECORRUPT);
  CHECK(strstr(spot_errdetail(), "not a spot log") != NULL);
  h->magic[0] = 'S';
  h->version = 99;
  CHECK_RC(spot_log_open("h", 0, io, &log, NULL), SPOT_EVERSION);
  h->version = SPOT__LOG_VERSION;
  h->elem_size ^= 1;
  CHECK_RC(spot_log_open("h", 0, io, &log, NULL), SPOT_ECORRUPT);
  CHECK(strstr(spot_errdetail(), "header is damaged") != NULL);
  h->elem_size ^= 1;
  CHECK_OK(spot_log_open("h", 0, io, &log, NULL));
  spot_log_close(log);
  /* a truncated file */
  void *p;
  size_t n;
  CHECK_OK(spot_io_mem_get_file(io, "h", &p, &n));
  CHECK_OK(spot_io_mem_put_file(io, "t", p, n - 1));
  CHECK_RC(spot_log_open("t", 0, io, &log, NULL), SPOT_ECORRUPT);
  CHECK(strstr(spot_errdetail(), "truncated") != NULL);
  CHECK_OK(spot_io_mem_put_file(io, "s", p, 100));
  CHECK_RC(spot_log_open("s", 0, io, &log, NULL), SPOT_ECORRUPT);
  spot_io_mem_free(io);
}

/* One damaged element in the middle: every other element stays readable, and --fix marks only it lost. */
static void test_middle_damage_reported_then_fixed(void) {
  spot_io_t *io = spot_io_mem_new(6);
  uint8_t *f = make_log(io, "m", 10, 8, SPOT_SYNC_NONE);
  CHECK(f != NULL);
  spot__slot_data(slot_of(f, 4))[2] ^= 0x40; /* a flipped bit in element 4 of 1..8 */
  spot_log_t *log;
  spot_log_report_t rep;
  uint64_t v, seq;
  CHECK_OK(spot_log_open("m", 0, io, &log, &rep));
  CHECK_EQ(rep.damaged, 1);
  CHECK_EQ(rep.damaged_seq, 4);
  CHECK_EQ(rep.valid_slots, 7);
  CHECK_EQ(rep.latest, 8);
  CHECK_EQ(rep.earliest, 1);
  CHECK_EQ(rep.repaired, 0); /* damage is left for `spot check --fix` */
  CHECK_RC(spot_log_read(log, 4, &v, 8), SPOT_ECORRUPT);
  CHECK(strstr(spot_errdetail(), "element 4") != NULL);
  CHECK(strstr(spot_errdetail(), "spot check") != NULL);
  for (uint64_t s = 1; s <= 8; s++)
    if (s != 4) {
      CHECK_OK(spot_log_read(log, s, &v, 8));
      CHECK_EQ(v, s);
    }
  CHECK_RC(spot_log_verify(log, &rep), SPOT_ECORRUPT);
  CHECK_EQ(rep.damaged, 1);
  CHECK_EQ(rep.damaged_seq, 4);
  spot_log_close(log);
  CHECK_OK(spot_log_open("m", SPOT_LOG_FIX, io, &log, &rep));
  CHECK_EQ(rep.latest, 8);
  CHECK_EQ(rep.earliest, 1);
  CHECK_EQ(rep.dropped, 0); /* nothing intact is given up */
  CHECK_EQ(rep.damaged, 1);
  CHECK_EQ(rep.lost, 1);
  CHECK_EQ(rep.lost_seq, 4);
  CHECK_RC(spot_log_read(log, 4, &v, 8), SPOT_EEXPIRED);
  CHECK(strstr(spot_errdetail(), "element 4 is lost") != NULL);
  CHECK_OK(spot_log_read(log, 2, &v, 8));
  CHECK_EQ(v, 2);
  CHECK_OK(spot_log_verify(log, &rep));
  CHECK_EQ(rep.valid_slots, 7);
  CHECK_EQ(rep.lost, 1);
  CHECK_OK(spot_log_append(log, &v, 8, &seq));
  CHECK_EQ(seq, 9); /* numbers are never handed out twice */
  spot_log_close(log);
  CHECK_OK(spot_log_open("m", 0, io, &log, &rep)); /* fixed for good */
  CHECK_EQ(rep.repaired, 0);
  CHECK_EQ(rep.damaged, 0);
  spot_log_close(log);
  spot_io_mem_free(io);
}

static void test_live_damage_found_by_verify(void) {
  spot_io_t *io = spot_io_mem_new(7);
  uint8_t *f = make_log(io, "v", 10, 5, SPOT_SYNC_NONE);
  spot_log_t *log;
  CHECK_OK(spot_log_open("v", 0, io, &log, NULL));
  slot_of(f, 3)->crc ^= 1;
  spot_log_report_t rep;
  CHECK_RC(spot_log_verify(log, &rep), SPOT_ECORRUPT);
  CHECK_EQ(rep.damaged_seq, 3);
  uint64_t v;
  CHECK_RC(spot_log_read(log, 3, &v, 8), SPOT_ECORRUPT);
  CHECK_OK(spot_log_read(log, 4, &v, 8));
  spot_log_close(log);
  spot_io_mem_free(io);
}

/* A writer killed in the middle of an append: the slot it was overwriting is invalid and torn. */
static void test_torn_tail_repaired(void) {
  spot_io_t *io = spot_io_mem_new(8);
  uint8_t *f = make_log(io, "t", 4, 6, SPOT_SYNC_NONE); /* window 3..6; element 7 would overwrite 3 */
  spot__slot_t *s = slot_of(f, 7);
  s->seq = 0;
  spot__slot_data(s)[0] ^= 0xff; /* half-copied data */
  spot_log_t *log;
  spot_log_report_t rep;
  CHECK_OK(spot_log_open("t", 0, io, &log, &rep));
  CHECK_EQ(rep.latest, 6);
  CHECK_EQ(rep.earliest, 4);
  CHECK_EQ(rep.torn_slots, 1);
  CHECK_EQ(rep.repaired, 1);
  uint64_t v, lo;
  CHECK_RC(spot_log_read(log, 3, &v, 8), SPOT_EEXPIRED);
  spot_log_earliest(log, &lo);
  CHECK_EQ(lo, 4);
  CHECK_OK(spot_log_read(log, 6, &v, 8));
  CHECK_EQ(v, 6);
  spot_log_close(log);

  /* An append that finished its slot but died before publishing it: kept, it is whole. */
  f = make_log(io, "u", 10, 3, SPOT_SYNC_NONE);
  s = slot_of(f, 4);
  uint64_t four = 4;
  memcpy(spot__slot_data(s), &four, 8);
  s->crc = spot__slot_crc(4, spot__slot_data(s), 8);
  s->seq = 4;
  CHECK_OK(spot_log_open("u", 0, io, &log, &rep));
  CHECK_EQ(rep.latest, 4);
  CHECK_OK(spot_log_read(log, 4, &v, 8));
  CHECK_EQ(v, 4);
  spot_log_close(log);
  spot_io_mem_free(io);
}

static void test_failed_sync_is_sticky(void) {
  spot_io_t *io = spot_io_mem_new(9);
  spot_log_config_t c = cfg(8, 10, SPOT_SYNC_ALWAYS);
  CHECK_OK(spot_log_create("s", &c, io));
  spot_log_t *log;
  CHECK_OK(spot_log_open("s", 0, io, &log, NULL));
  uint64_t v = 1, seq;
  CHECK_OK(spot_log_append(log, &v, 8, &seq));
  spot_io_mem_fail_at(io, 1, SPOT_IO_MEM_FAIL_EIO, 0); /* the next operation (the sync) fails once */
  CHECK_RC(spot_log_append(log, &v, 8, &seq), SPOT_EIO);
  CHECK(strstr(spot_errdetail(), "reopened") != NULL);
  CHECK_RC(spot_log_append(log, &v, 8, &seq), SPOT_EFAILED); /* not retried silently */
  CHECK_RC(spot_log_wait_durable(log, 1), SPOT_EFAILED);
  CHECK_OK(spot_log_read(log, 1, &v, 8)); /* reads still work */
  spot_log_close(log);
  CHECK_OK(spot_log_open("s", 0, io, &log, NULL));
  CHECK_OK(spot_log_append(log, &v, 8, &seq));
  CHECK_EQ(seq, 3);
  spot_log_close(log);
  spot_io_mem_free(io);
}

static void test_wait_durable(void) {
  spot_io_t *io = spot_io_mem_new(10);
  spot_log_config_t c = cfg(8, 1000, SPOT_SYNC_BATCH);
  CHECK_OK(spot_log_create("b", &c, io));
  spot_log_t *log;
  CHECK_OK(spot_log_open("b", 0, io, &log, NULL));
  uint64_t syncs0 = spot_io_mem_syncs(io), seq = 0;
  for (uint64_t i = 1; i <= 500; i++)
    CHECK_OK(spot_log_append_async(log, &i, 8, &seq));
  CHECK_OK(spot_log_wait_durable(log, seq));
  CHECK(spot_io_mem_syncs(io) - syncs0 <= 2); /* one group commit covers all 500 */
  spot_log_info_t info;
  spot_log_info(log, &info);
  CHECK(info.durable >= 500);
  CHECK_RC(spot_log_wait_durable(log, 501), SPOT_ENOTYET);
  CHECK_OK(spot_log_wait_durable(log, 0));
  spot_log_close(log);
  spot_io_mem_free(io);
}

/* A durable log never overwrites an element newer than the durable hint on disk: with history 2 in batch mode,
 * async appends have to wait for syncs, and still all succeed. */
static void test_durable_ring_backpressure(void) {
  spot_io_t *io = spot_io_mem_new(11);
  spot_log_config_t c = cfg(8, 2, SPOT_SYNC_BATCH);
  CHECK_OK(spot_log_create("p", &c, io));
  spot_log_t *log;
  CHECK_OK(spot_log_open("p", 0, io, &log, NULL));
  for (uint64_t i = 1; i <= 20; i++) {
    uint64_t seq;
    CHECK_OK(spot_log_append_async(log, &i, 8, &seq));
    CHECK_EQ(seq, i);
  }
  CHECK(spot_io_mem_syncs(io) >= 9);
  spot__loghdr_t *h = (spot__loghdr_t *)bytes_of(io, "p");
  CHECK(h->hint_on_disk >= 18);
  spot_log_close(log);
  spot_io_mem_free(io);
}

static void test_two_handles_posix(void) {
  const char *dir = spot_test_dir("log");
  char path[4200];
  snprintf(path, sizeof path, "%s/two.log", dir);
  spot_log_config_t c = cfg(16, 64, SPOT_SYNC_NONE);
  CHECK_OK(spot_log_create(path, &c, NULL));
  spot_log_t *a, *b;
  spot_log_report_t rep;
  CHECK_OK(spot_log_open(path, 0, NULL, &a, &rep));
  CHECK_OK(spot_log_open(path, 0, NULL, &b, &rep)); /* shared: no recovery while a is open */
  uint64_t seq;
  CHECK_OK(spot_log_append(a, "from a", 6, &seq));
  CHECK_OK(spot_log_append(b, "from b", 6, &seq));
  CHECK_EQ(seq, 2);
  char buf[16];
  CHECK_OK(spot_log_read(b, 1, buf, sizeof buf));
  CHECK(strcmp(buf, "from a") == 0);
  CHECK_OK(spot_log_read(a, 2, buf, sizeof buf));
  CHECK(strcmp(buf, "from b") == 0);
  spot_log_close(a);
  spot_log_close(b);
  CHECK_OK(spot_log_open(path, 0, NULL, &a, &rep));
  CHECK_EQ(rep.latest, 2);
  spot_log_close(a);
}

/* The platform contract on mapped writes (platform/platform.h): the POSIX io has a flush exactly where its sync
 * does not cover the map, and spot__map_flush() accepts any range of a mapping (rounding to its page). */
static void test_map_flush_contract(void) {
  spot_io_t *io = spot_io_posix();
  CHECK((io->flush == NULL) == (SPOT__SYNC_COVERS_MAP == 1));
  const char *dir = spot_test_dir("flush");
  char path[4200];
  snprintf(path, sizeof path, "%s/f.log", dir);
  spot_log_config_t c = cfg(100, 300, SPOT_SYNC_ALWAYS);
  CHECK_OK(spot_log_create(path, &c, io));
  spot_file_t *f;
  uint8_t *map;
  uint64_t size;
  CHECK_OK(io->open(io, path, 0, &f));
  CHECK_OK(io->size(f, &size));
  CHECK_OK(io->map(f, size, (void **)&map));
  memset(map + 5000, 0xab, 300);
  CHECK_OK(spot__map_flush(map + 5000, 300)); /* not page-aligned */
  CHECK_OK(spot__map_flush(map, (size_t)size));
  CHECK_OK(spot__map_flush(map + 7, 0));
  if (io->flush) {
    CHECK_OK(io->flush(f, 5000, 300));
    CHECK_RC(io->flush(f, size, 1), SPOT_EINVAL);
  }
  CHECK_OK(io->sync(f));
  CHECK_OK(io->unmap(f, map, size));
  CHECK_OK(io->close(f));
  spot_log_t *log;
  spot_log_report_t rep;
  CHECK_OK(spot_log_open(path, 0, io, &log, &rep)); /* the header is intact, the slots at 5000 are not elements */
  uint64_t seq;
  CHECK_OK(spot_log_append(log, "x", 1, &seq)); /* a durable append runs the flush path where there is one */
  CHECK_EQ(seq, 1);
  spot_log_close(log);
}

static int count_name(const char *name, void *arg) {
  (*(int *)arg)++;
  return strcmp(name, "alpha") == 0 ? 0 : (strcmp(name, "beta") == 0 ? 0 : -1000);
}

static void test_namespace(void) {
  const char *dir0 = spot_test_dir("ns");
  char dir[4200];
  snprintf(dir, sizeof dir, "%s/space", dir0);
  spot_ns_t *ns;
  CHECK_RC(spot_ns_open(dir, NULL, &ns), SPOT_ENONS);
  CHECK(strstr(spot_errdetail(), "spot init") != NULL);
  CHECK_RC(spot_ns_open(dir0, NULL, &ns), SPOT_ENONS); /* a directory, but not a namespace */
  CHECK_RC(spot_ns_open(NULL, NULL, &ns), SPOT_ENONS);
  CHECK_OK(spot_ns_init(dir));
  CHECK_OK(spot_ns_init(dir)); /* idempotent */
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  spot_log_config_t c = cfg(4, 4, SPOT_SYNC_NONE);
  CHECK_OK(spot_ns_create_log(ns, "beta", &c));
  CHECK_OK(spot_ns_create_log(ns, "alpha", &c));
  CHECK_RC(spot_ns_create_log(ns, "alpha", &c), SPOT_EEXIST);
  CHECK_RC(spot_ns_create_log(ns, "../escape", &c), SPOT_EBADNAME);
  CHECK_RC(spot_ns_create_log(ns, "a/b", &c), SPOT_EBADNAME);
  spot_log_t *log;
  CHECK_RC(spot_ns_open_log(ns, "gamma", 0, &log, NULL), SPOT_ENOTFOUND);
  CHECK(strstr(spot_errdetail(), "gamma") != NULL);
  CHECK_OK(spot_ns_open_log(ns, "alpha", 0, &log, NULL));
  spot_log_close(log);
  int n = 0;
  CHECK_OK(spot_ns_list(ns, count_name, &n));
  CHECK_EQ(n, 2);
  spot_ns_close(ns);
}

static const spot_test_t tests[] = {
    {"create_errors", test_create_errors},
    {"append_read", test_append_read},
    {"ring_wraparound", test_ring_wraparound},
    {"iterate", test_iterate},
    {"header_damage", test_header_damage},
    {"middle_damage_reported_then_fixed", test_middle_damage_reported_then_fixed},
    {"live_damage_found_by_verify", test_live_damage_found_by_verify},
    {"torn_tail_repaired", test_torn_tail_repaired},
    {"failed_sync_is_sticky", test_failed_sync_is_sticky},
    {"wait_durable", test_wait_durable},
    {"durable_ring_backpressure", test_durable_ring_backpressure},
    {"two_handles_posix", test_two_handles_posix},
    {"map_flush_contract", test_map_flush_contract},
    {"namespace", test_namespace},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
