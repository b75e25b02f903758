/*
 * time.c: clocks, sleeping and randomness for POSIX (platform.h).
 */
#include <errno.h>
#include <sys/random.h>
#include <time.h>

#include "platform/platform.h"

uint64_t spot__now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t spot__wall_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void spot__sleep_ns(uint64_t ns) {
  struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

void spot__random(void *buf, size_t n) {
  unsigned char *p = buf;
  while (n > 0) {
    ssize_t got = getrandom(p, n, 0);
    if (got < 0) {
      if (errno == EINTR)
        continue;
      /* No entropy source: fall back on the clock; only identities (log ids) use this, never keys. */
      uint64_t t = spot__wall_ns() ^ spot__now_ns();
      for (; n > 0; n--, p++, t = t * 6364136223846793005ull + 1442695040888963407ull)
        *p = (unsigned char)(t >> 56);
      return;
    }
    p += got;
    n -= (size_t)got;
  }
}
