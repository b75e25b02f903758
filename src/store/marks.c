/*
 * store/marks.c: the dispatcher's marks on elements (store/store.h): pending, claimed, released. A mark lives in the
 * high half of a slot's crc word and changes by compare-and-swap with the crc adjusted, without reading the data
 * (docs/DESIGN.md, "The log store as built"); only a mark its crc covers counts.
 */
#include "spot/error.h"
#include "store/log_impl.h"
#include "store/store.h"

/* Replaces the mark of element seq by change(mark) if the slot still holds seq, keeping the crc consistent (a crc
 * that did not cover the old mark still does not cover the new one). The mark it replaced, into *was; returns 0,
 * or SPOT_ENOTFOUND if the slot does not hold seq (or change() refused: it returned the mark unchanged). */
static int remark(spot_log_t *log, uint64_t seq, uint32_t (*change)(uint32_t), uint32_t *was) {
  spot__slot_t *slot = spot__slot_at(log, seq);
  _Atomic uint64_t *word = spot__slot_word(slot);
  uint64_t w = atomic_load_explicit(word, memory_order_acquire);
  for (;;) {
    *was = 0;
    if (atomic_load_explicit((_Atomic uint64_t *)&slot->seq, memory_order_acquire) != seq)
      return SPOT_ENOTFOUND;
    uint32_t m = (uint32_t)(w >> 32), n = change(m);
    *was = m;
    if (n == m)
      return SPOT_ENOTFOUND;
    uint32_t crc = (uint32_t)w ^ spot__mark_code(seq, m) ^ spot__mark_code(seq, n);
    /* A concurrent overwrite stores a new word before it publishes another seq: the exchange then fails. */
    if (atomic_compare_exchange_weak_explicit(word, &w, spot__word(crc, n), memory_order_acq_rel,
                                              memory_order_acquire))
      return 0;
  }
}

static uint32_t to_zero(uint32_t m) {
  (void)m;
  return 0;
}
static uint32_t to_claimed(uint32_t m) { return m == 0 || (m & SPOT__MARK_RUNNING) ? m : m | SPOT__MARK_RUNNING; }
static uint32_t to_unclaimed(uint32_t m) { return m & ~SPOT__MARK_RUNNING; }

void spot__log_release(spot_log_t *log, uint64_t seq) {
  uint32_t was;
  remark(log, seq, to_zero, &was);
  spot__prefault_ahead(log, seq); /* the node goes through the ring in order: its mapping one chunk ahead too */
}

uint32_t spot__log_pending(spot_log_t *log, uint64_t seq) {
  spot__slot_t *slot = spot__slot_at(log, seq);
  if ((atomic_load_explicit(spot__slot_word(slot), memory_order_acquire) >> 32) == 0)
    return 0;
  /* Only a mark its crc covers counts: one set by hand or flipped must not run a handler. A marked element is not
   * overwritten (backpressure), so its data is stable; the mark is read again after the check. */
  if (spot__slot_state(log, seq, NULL) != SPOT__SLOT_INTACT)
    return 0;
  uint32_t p = (uint32_t)(atomic_load_explicit(spot__slot_word(slot), memory_order_acquire) >> 32);
  return atomic_load_explicit((_Atomic uint64_t *)&slot->seq, memory_order_acquire) == seq ? p : 0;
}

int spot__log_claim(spot_log_t *log, uint64_t seq) {
  uint32_t was = 0;
  spot__prefault_ahead(log, seq);
  if (remark(log, seq, to_claimed, &was) == 0)
    return 0;
  return was != 0 && (was & SPOT__MARK_RUNNING) ? SPOT_EBUSY : SPOT_ENOTFOUND;
}

void spot__log_unclaim(spot_log_t *log, uint64_t seq) {
  uint32_t was;
  remark(log, seq, to_unclaimed, &was);
}
