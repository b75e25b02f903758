/*
 * fuzz_wire.c: feeds arbitrary bytes to the message decoder (core/wire.h). Nothing may crash or read outside the
 * input; whatever decodes must encode again to exactly the input bytes (the encoding is canonical), and decoding
 * that encoding must give the same message, field by field. Any mismatch aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "core/wire.h"

static void same_str(spot__wire_str_t a, spot__wire_str_t b) {
  if (a.len != b.len || (a.len > 0 && memcmp(a.ptr, b.ptr, a.len) != 0))
    abort();
}

static void same_bytes(const uint8_t *a, const uint8_t *b, size_t len) {
  if (len > 0 && (a == NULL || b == NULL || memcmp(a, b, len) != 0))
    abort();
}

static void same_msg(const spot__msg_t *a, const spot__msg_t *b) {
  if (a->type != b->type || a->flags != b->flags || a->id != b->id)
    abort();
  same_str(a->ns, b->ns);
  same_str(a->log, b->log);
  same_str(a->handler, b->handler);
  same_str(a->object, b->object);
  same_str(a->detail, b->detail);
  if (a->elem_size != b->elem_size || a->history != b->history || a->sync != b->sync ||
      a->cause_node != b->cause_node || a->cause_event != b->cause_event || a->seq != b->seq ||
      a->from != b->from || a->max != b->max || a->fix != b->fix || a->status != b->status || a->latest != b->latest ||
      a->earliest != b->earliest || a->durable != b->durable)
    abort();
  if (a->data_len != b->data_len || a->count != b->count)
    abort();
  same_bytes(a->data, b->data, a->data_len);
  same_bytes(a->events, b->events, (size_t)a->count * SPOT__EVENT_BYTES);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* the decoder must not read past size: give it an exact-size copy, so ASan sees any overrun */
  uint8_t *in = malloc(size ? size : 1);
  if (in == NULL)
    return 0;
  if (size > 0)
    memcpy(in, data, size);
  spot__msg_t m;
  if (spot__wire_decode(in, size, &m) != 0)
    goto out;
  size_t len;
  if (spot__wire_encoded_size(&m, &len) != 0 || len != size)
    abort();
  uint8_t *again = malloc(len);
  if (again == NULL)
    goto out;
  size_t n;
  if (spot__wire_encode(&m, again, len, &n) != 0 || n != size || memcmp(again, in, size) != 0)
    abort();
  spot__msg_t m2;
  if (spot__wire_decode(again, n, &m2) != 0)
    abort();
  same_msg(&m, &m2);
  /* a buffer one byte short is refused, never overrun */
  if (len > 0 && spot__wire_encode(&m, again, len - 1, &n) == 0)
    abort();
  free(again);
out:
  free(in);
  return 0;
}
