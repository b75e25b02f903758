/*
 * store/prefault.c: faulting a handle's mapping in ahead of where it writes. The first store to a page through a
 * mapping costs a page fault (and, on a new file, the file system's block allocation); writers and the node go
 * through the ring in order, so a chunk at a time is faulted in with one call instead (docs/DESIGN.md, "Faulting in
 * ahead"; tests/store_prefault_test.c).
 */
#include <stdlib.h>

#include "store/log_impl.h"

#define PREFAULT_BYTES (256u << 10) /* the most one call faults in */

void spot__prefault_init(spot_log_t *log) {
  for (log->prefault_slots = 1; log->prefault_slots * 2 * log->slot_bytes <= PREFAULT_BYTES;) /* a power of two */
    log->prefault_slots *= 2;
  uint64_t chunks = (log->history + log->prefault_slots - 1) / log->prefault_slots;
  log->prefaulted = calloc((size_t)((chunks + 63) / 64), sizeof *log->prefaulted); /* NULL: pages fault one by one */
  atomic_store(&log->prefault_left, log->prefaulted ? chunks : 0);
}

/* Faults chunk c of this handle's mapping in with one call, unless this handle did already. */
static void prefault_chunk(spot_log_t *log, uint64_t c) {
  uint64_t bit = 1ull << (c & 63);
  if (atomic_fetch_or_explicit(&log->prefaulted[c >> 6], bit, memory_order_relaxed) & bit)
    return;
  atomic_fetch_sub_explicit(&log->prefault_left, 1, memory_order_relaxed);
  uint64_t from = c * log->prefault_slots, to = from + log->prefault_slots;
  if (to > log->history)
    to = log->history;
  spot__prefault(log->slots + from * log->slot_bytes, (size_t)((to - from) * log->slot_bytes));
}

/* A slot a handle writes for the first time through its mapping costs a page fault at its first store (and, on a
 * new file, the file system's block allocation): some microseconds each on a virtual machine, once per 4 KiB of
 * slots, for every handle: the appender's, and the node's that claims and releases the marks. Writers and the node
 * go through the ring in order, so whoever reaches the first slot of a chunk (a power of two of slots, 128-256 KiB)
 * faults that chunk and the next in with one call each (a bit per chunk and handle: each once), after its own
 * write has been published, so the handle finds its pages mapped one chunk ahead. Once every chunk of the handle's
 * mapping is in, one load stops the check (tests/store_prefault_test.c). */
void spot__prefault_ahead(spot_log_t *log, uint64_t r) {
  if (atomic_load_explicit(&log->prefault_left, memory_order_relaxed) == 0)
    return;
  const uint64_t chunk = log->prefault_slots, i = (r - 1) % log->history; /* number r lives in slot (r - 1) % H */
  if ((i & (chunk - 1)) != 0)
    return;
  uint64_t c = i / chunk, n = (log->history + chunk - 1) / chunk;
  prefault_chunk(log, c);
  prefault_chunk(log, (c + 1) % n);
}
