/*
 * log.h: spotd's own log (log.c). Levelled lines, written whole:
 *   - to stderr as `spotd: LEVEL: text`, or as `<N>text` (sd-daemon priority prefixes) when stderr is the systemd
 *     journal ($JOURNAL_STREAM names it), so journalctl shows each line's priority;
 *   - with --log FILE (and with --daemon, which defaults to DIR/.spot/spotd.log), spotd's stdout and stderr become
 *     a pipe read by a logger thread that stamps each line with the UTC time and appends it to FILE; everything
 *     spotd and its worker processes write goes there (handler output included: workers inherit the pipe), and
 *     the file is opened anew on SIGHUP (spotd_log_reopen), so logrotate can rename it and signal, no copytruncate.
 * Level checks come before any formatting (SPOTD_LOG). Not thread-safe to set up: spotd_log_open and
 * spotd_log_close run on the main thread, before the node starts and after it stopped.
 */
#ifndef SPOTD_LOG_H
#define SPOTD_LOG_H

#include <stdarg.h>

enum { SPOTD_LOG_ERROR = 3, SPOTD_LOG_WARN = 4, SPOTD_LOG_INFO = 6, SPOTD_LOG_DEBUG = 7 };

/* Lines above this level are dropped before they are formatted (default SPOTD_LOG_INFO). */
extern int spotd_log_level;

#define SPOTD_LOG(level, ...)                  \
  do {                                         \
    if ((level) <= spotd_log_level)            \
      spotd_log_line((level), __VA_ARGS__);    \
  } while (0)

/* Writes one line at level (no newline in fmt): see the top of this file for where it goes. */
void spotd_log_line(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "error", "warn", "info" or "debug" into *level: 0, or -1 for anything else. */
int spotd_log_parse_level(const char *name, int *level);

/* Looks at stderr once: the journal or not ($JOURNAL_STREAM matches its device and inode). Call before any line. */
void spotd_log_init(void);

/* Sends this process's stdout and stderr to path (appended, created 0640) through the logger thread. Until
 * spotd_log_detach, error lines also go to the stderr spotd had before, so a failed start is seen where spotd was
 * started. 0, or -1 with errno (path cannot be opened: nothing changed). */
int spotd_log_open(const char *path);

/* The path given to spotd_log_open, or NULL when lines go to stderr. */
const char *spotd_log_path(void);

/* Asks the logger thread to open the path anew (a rotated file): async-signal-safe, for the SIGHUP handler. The
 * logger does it within about 200 ms, before it writes any later line. No effect without spotd_log_open. */
void spotd_log_reopen(void);

/* spotd serves: error lines stop going to the stderr spotd had before spotd_log_open (closes it). */
void spotd_log_detach(void);

/* Drains what is still in the pipe (at most about 1 s once the last writer is gone or silent), stops the logger
 * thread and points stdout and stderr at /dev/null. No effect without spotd_log_open. */
void spotd_log_close(void);

#endif
