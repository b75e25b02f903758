/*
 * fuzz_event.c: feeds arbitrary bytes to the event record decoder (core/event.h), as the network and old event logs
 * hand it records: at the sizes of both versions. Nothing may crash or read outside the input; whatever decodes must
 * encode again (in the layout of its size) to a record that decodes to the same fields. Any mismatch aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"

static void same(const spot__event_t *a, const spot__event_t *b) {
  if (a->type != b->type || a->status != b->status || a->node != b->node || a->id != b->id ||
      a->cause_node != b->cause_node || a->cause_id != b->cause_id || a->ref != b->ref || a->time_ns != b->time_ns ||
      a->duration_ns != b->duration_ns || a->seq != b->seq || a->cpu_ns != b->cpu_ns ||
      a->energy_nj != b->energy_nj || a->handler_id != b->handler_id || strcmp(a->log, b->log) != 0 ||
      strcmp(a->handler, b->handler) != 0 || strcmp(a->reason, b->reason) != 0)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *in = malloc(size ? size : 1); /* an exact-size copy, so ASan sees any overrun */
  if (in == NULL)
    return 0;
  if (size > 0)
    memcpy(in, data, size);
  spot__event_t e, d;
  if (spot__event_decode(in, size, &e) == 0) {
    uint8_t again[SPOT__EVENT_BYTES];
    if (spot__event_encode_as(&e, again, size) != 0 || spot__event_decode(again, size, &d) != 0)
      abort();
    same(&e, &d);
    /* a version-1 record read again as version 2 loses nothing it had */
    if (size == SPOT__EVENT_V1_BYTES) {
      spot__event_encode(&e, again);
      if (spot__event_decode(again, SPOT__EVENT_BYTES, &d) != 0)
        abort();
      same(&e, &d);
    }
  }
  free(in);
  return 0;
}
