/*
 * store/lease.c: turns between the writers of one log. Appends are correct without it (the reservation in each
 * slot decides who writes a number, core/logfmt.h), but two writers that interleave numbers move the cache lines of
 * `next` and of neighbouring slots between processors on every append: two processes together made a tenth of
 * what one makes alone. The lease makes them take turns instead, so each line moves once per turn.
 *
 * One word in the header (spot__loghdr_t.lease, store/log_impl.h): the holder's thread id, whether it is inside an
 * append, a count it bumps on every append, and when its turn began (microseconds, 24 bits). The holder appends
 * without looking further. Another writer computes its checksum, then waits until the holder's turn is over
 * (LEASE_TURN_NS) or the holder has stayed outside every append for LEASE_IDLE_NS (a burst ended), and takes the
 * word over with a compare-and-swap. A holder that dies, or is stopped, inside an append holds it one turn. The
 * word is a hint only: a lost update lets two writers interleave for a moment, never write the same number, and no
 * writer ever waits longer than one turn for it (docs/DESIGN.md, "Turns between writers").
 */
#include "store/log_impl.h"

#define LEASE_TURN_NS 100000u /* a holder appends this long before a waiting writer takes over */
#define LEASE_IDLE_NS 200u    /* a holder outside any append this long is not streaming */
#define LEASE_LOOK_NS 2000u   /* how often a waiter looks at a holder it has seen at work */

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
  uint64_t now = spot__now_ns(), seen = w, seen_at = now, look = LEASE_IDLE_NS;
  for (;;) {
    if (w != seen) {
      /* The holder appended: look less often (each look costs it a cache miss). Another holder: watch it afresh. */
      look = (uint32_t)w == (uint32_t)seen ? LEASE_LOOK_NS : LEASE_IDLE_NS;
      seen = w;
      seen_at = now;
    }
    /* Take it when nobody holds it, when the turn is over (a holder stuck inside an append, or dead there, holds it
     * at most that long), or when the holder has stayed outside every append for the idle time. */
    uint64_t age = lease_age_ns(w, now);
    if ((uint32_t)w == 0 || age >= LEASE_TURN_NS || (!(w & SPOT__LEASE_INSIDE) && now - seen_at >= LEASE_IDLE_NS)) {
      if (atomic_compare_exchange_strong_explicit(word, &w, spot__lease_word(me, now), memory_order_relaxed,
                                                  memory_order_relaxed))
        return;
      now = spot__now_ns();
      continue;
    }
    uint64_t until = now + (look < LEASE_TURN_NS - age ? look : LEASE_TURN_NS - age);
    if (until - now >= LEASE_LOOK_NS)
      spot__yield(); /* more writers than processors: let the holder run */
    while ((now = spot__now_ns()) < until)
      for (int i = 0; i < 16; i++)
        spot__cpu_relax();
    w = atomic_load_explicit(word, memory_order_relaxed);
  }
}
