/*
 * power.c: what the node's energy figures rest on, for Linux: the CPU time of the calling thread, the number of
 * online CPUs, and the package energy counter of Intel RAPL (/sys/class/powercap/intel-rapl:0/energy_uj), which
 * exists on Intel (and recent AMD) machines and is readable only where the administrator allows it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "platform/platform.h"
#include "spot/error.h"

#define RAPL_ENERGY "/sys/class/powercap/intel-rapl:0/energy_uj"

uint64_t spot__thread_cpu_ns(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
    return 0;
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

unsigned spot__ncpus(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (unsigned)n : 1u;
}

int spot__rapl_uj(uint64_t *out) {
  int fd = open(RAPL_ENERGY, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return SPOT_ENOTSUP;
  char buf[32];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0)
    return SPOT_ENOTSUP;
  buf[n] = '\0';
  char *end;
  unsigned long long v = strtoull(buf, &end, 10);
  if (end == buf)
    return SPOT_ENOTSUP;
  *out = v;
  return 0;
}
