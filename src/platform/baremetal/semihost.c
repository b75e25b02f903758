/*
 * semihost.c: ARM semihosting (a `bkpt 0xAB` the debugger or QEMU answers): the console for logs and reports, and
 * the program's exit status.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "platform/baremetal/baremetal.h"

#define SYS_WRITE0 0x04u
#define SYS_EXIT_EXTENDED 0x20u
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

static uint32_t semihost(uint32_t op, const void *arg) {
  register uint32_t r0 __asm__("r0") = op;
  register const void *r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

void spot__bm_console(const char *text, size_t len) {
  char chunk[65];
  while (len > 0) {
    size_t n = len < sizeof chunk - 1 ? len : sizeof chunk - 1;
    memcpy(chunk, text, n);
    chunk[n] = '\0';
    semihost(SYS_WRITE0, chunk);
    text += n;
    len -= n;
  }
}

void spot__bm_printf(const char *fmt, ...) {
  char line[200];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n > 0)
    spot__bm_console(line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

void spot__bm_exit(int code) {
  uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code};
  semihost(SYS_EXIT_EXTENDED, block);
  for (;;) /* no debugger answered: stop here */
    __asm__ volatile("wfi");
}
