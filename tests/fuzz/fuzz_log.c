/*
 * fuzz_log.c: feeds arbitrary bytes as a log file to open (recovery), read, iterate, check and append, through
 * the in-memory io. The first input byte picks the case: same boot or after a power cut, and with or without
 * --fix; the rest is the file. Nothing may crash, and nothing read may fail its checksum.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/logfmt.h"
#include "spot/error.h"
#include "spot/io_mem.h"
#include "spot/log.h"

static int visit(uint64_t seq, const void *data, size_t size, void *arg) {
  (void)seq;
  (void)data;
  (void)size;
  (*(int *)arg)++;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  uint8_t mode = data[0];
  data++;
  size--;
  /* Keep the geometry small: the fuzzer may claim a history of 2^40 slots. */
  if (size >= sizeof(spot__loghdr_t)) {
    spot__loghdr_t h;
    memcpy(&h, data, sizeof h); /* the input is not aligned */
    if ((uint64_t)h.slot_bytes * h.history > (64u << 20))
      return 0;
  }
  spot_io_t *io = spot_io_mem_new(mode);
  if (io == NULL)
    return 0;
  if (spot_io_mem_put_file(io, "f.log", data, size) != 0)
    goto out;
  if (mode & 1) {
    /* same boot: the header's boot id must match the mem io's current one */
    void *p;
    size_t n;
    uint8_t boot[16];
    if (spot_io_mem_get_file(io, "f.log", &p, &n) == 0 && n >= sizeof(spot__loghdr_t) &&
        io->boot_id(io, boot) == 0)
      memcpy(((spot__loghdr_t *)p)->ready_boot, boot, 16);
  }
  spot_log_t *log;
  spot_log_report_t rep;
  if (spot_log_open("f.log", (mode & 2) ? SPOT_LOG_FIX : 0, io, &log, &rep) != 0)
    goto out;
  spot_log_info_t info;
  spot_log_info(log, &info);
  uint8_t *buf = malloc(info.elem_size);
  if (buf) {
    for (uint64_t s = info.earliest; s && s <= info.latest && s < info.earliest + 64; s++) {
      int rc = spot_log_read(log, s, buf, info.elem_size);
      if (rc != 0 && rc != SPOT_EEXPIRED && !(rc == SPOT_ECORRUPT && !(mode & 2)))
        abort(); /* recovery left an element inside the window that is neither readable, lost nor reported */
    }
    free(buf);
  }
  int n = 0;
  spot_log_iterate(log, 0, UINT64_MAX, visit, &n);
  if (spot_log_verify(log, NULL) != 0 && (mode & 2))
    abort(); /* --fix left damage behind */
  uint64_t seq;
  spot_log_append(log, "fuzz", 4, &seq);
  spot_log_close(log);
out:
  spot_io_mem_free(io);
  return 0;
}
