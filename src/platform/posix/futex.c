/*
 * futex.c: waiting on a shared 32-bit word (platform.h), with Linux futexes (not private: the word may live in a
 * file mapping shared by several processes).
 */
#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "platform/platform.h"
#include "spot/error.h"

int spot__futex_wait(uint32_t *word, uint32_t expected, uint64_t timeout_ns) {
  struct timespec ts = {.tv_sec = (time_t)(timeout_ns / 1000000000u), .tv_nsec = (long)(timeout_ns % 1000000000u)};
  long r = syscall(SYS_futex, word, FUTEX_WAIT, expected, timeout_ns ? &ts : NULL, NULL, 0);
  if (r != 0 && errno == ETIMEDOUT)
    return SPOT_ETIMEDOUT;
  return 0; /* woken, EAGAIN (the word changed) or EINTR: the caller re-checks */
}

int spot__poll_word(const uint32_t *word, uint32_t expected, uint64_t poll_ns) {
  spot__spin_t s = {0};
  while (__atomic_load_n(word, __ATOMIC_ACQUIRE) == expected)
    if (!spot__spin(&s, poll_ns))
      return SPOT_ETIMEDOUT;
  return 0;
}

void spot__futex_wake(uint32_t *word) { syscall(SYS_futex, word, FUTEX_WAKE, 0x7fffffff, NULL, NULL, 0); }
