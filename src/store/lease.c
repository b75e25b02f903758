/*
 * store/lease.c: turns between the writers of one log. Appends are correct without it (the reservation in each
 * slot decides who writes a number, core/logfmt.h), but two writers that interleave numbers move the cache lines of
 * `next` and of neighbouring slots between processors on every append: two processes together made a tenth of
 * what one makes alone. The lease makes them take turns instead, so each line moves once per turn.
 *
 * One word in the header (spot__loghdr_t.lease, store/log_impl.h): the holder's thread id, whether it is inside an
 * append, a count it bumps on every append, and when its turn began (microseconds, 24 bits). The holder appends
 * without looking further. Another writer computes its checksum, then takes the word over with a compare-and-swap
 * at once if the holder is outside any append; when it sees the holder leave its append and not start another
 * within LEASE_IDLE_NS; or, once it has seen the holder append again (a stream), when the holder's turn is over
 * (LEASE_TURN_NS), sleeping until then. A holder that dies, or is stopped, inside an append keeps it one turn. The
 * word is a hint only: a lost update lets two writers interleave for a moment, never write the same number, and no
 * writer waits longer than one turn (plus the oversleep of one sleep) for it (docs/DESIGN.md, "Turns between
 * writers").
 */
#include "store/log_impl.h"

#define LEASE_TURN_NS 100000u /* a holder appends this long before a waiting writer takes over */
#define LEASE_IDLE_NS 200u    /* how soon a waiter looks again at a holder it found inside an append */

#define LEASE_STAMP_SHIFT 40
#define LEASE_STAMP_MASK ((1ull << 24) - 1) /* units of 1,024 ns: wraps after ~17 s (ages are taken modulo) */

uint64_t spot__lease_word(uint32_t holder, uint64_t now_ns) {
  return (uint64_t)holder | SPOT__LEASE_INSIDE | (((now_ns >> 10) & LEASE_STAMP_MASK) << LEASE_STAMP_SHIFT);
}

/* How long ago word w's turn began, in ns (modulo ~17 s). */
static uint64_t lease_age_ns(uint64_t w, uint64_t now_ns) {
  return (((now_ns >> 10) - (w >> LEASE_STAMP_SHIFT)) & LEASE_STAMP_MASK) << 10;
}

void spot__lease_wait(spot_log_t *log, uint32_t me, uint64_t w) {
  _Atomic uint64_t *word = (_Atomic uint64_t *)&log->hdr->lease;
  uint64_t now = spot__now_ns(), prev = w;
  int active = 0; /* the holder appended between two of our looks: it streams, so wait for the end of its turn */
  for (;;) {
    /* Take the turn when nobody holds it; when it is over (a holder stuck inside an append, or dead there, keeps it
     * that long at most); or when the holder is outside every append and either has not been seen streaming or
     * has not appended since our last look (its burst ended). */
    uint64_t age = lease_age_ns(w, now);
    int outside = !(w & SPOT__LEASE_INSIDE);
    if ((uint32_t)w == 0 || age >= LEASE_TURN_NS || (outside && (!active || w == prev))) {
      uint64_t cur = w;
      if (atomic_compare_exchange_strong_explicit(word, &cur, spot__lease_word(me, now), memory_order_relaxed,
                                                  memory_order_relaxed))
        return;
      prev = w;
      w = cur;
      now = spot__now_ns();
    } else if (active) {
      /* It streams: sleep out its turn. Looking more often cost it more than it saved here: each look takes the
       * line from the holder, and a yield loop kept the hypervisor busy (two processes: ~20% fewer appends). */
      spot__sleep_ns(LEASE_TURN_NS - age);
      now = spot__now_ns();
      prev = w;
      w = atomic_load_explicit(word, memory_order_relaxed);
    } else {
      uint64_t left = LEASE_TURN_NS - age;
      spot__spin_t spin = {0};
      while (spot__spin(&spin, LEASE_IDLE_NS < left ? LEASE_IDLE_NS : left))
        ;
      now = spot__now_ns();
      prev = w;
      w = atomic_load_explicit(word, memory_order_relaxed);
    }
    if ((uint32_t)w != (uint32_t)prev)
      active = 0; /* another holder: watch it afresh */
    else if ((w ^ prev) & SPOT__LEASE_COUNT)
      active = 1;
  }
}
