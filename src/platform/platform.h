/*
 * platform/platform.h: the contract between spot's portable code and the operating system.
 *
 * Only src/platform/ includes OS headers. Each port (posix/ now, baremetal/ later) implements every function here
 * with the semantics written next to it. File I/O is not here: it goes through the spot_io_t table (spot/io.h),
 * whose POSIX implementation is spot_io_posix() in posix/io_posix.c.
 */
#ifndef SPOT_PLATFORM_H
#define SPOT_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

/* ---- time ---- */

/* Monotonic nanoseconds (never goes back; arbitrary origin). */
uint64_t spot__now_ns(void);
/* Wall-clock nanoseconds since the Unix epoch. */
uint64_t spot__wall_ns(void);
/* Sleeps at least ns nanoseconds. */
void spot__sleep_ns(uint64_t ns);

/* ---- power (the energy of handler runs) ---- */

/* CPU time the calling thread has used, in nanoseconds (0 if the clock cannot be read). Baremetal: its time. */
uint64_t spot__thread_cpu_ns(void);
/* Online CPUs (at least 1). */
unsigned spot__ncpus(void);
/* The package energy counter in microjoules (Intel RAPL, powercap), into *out: 0, or SPOT_ENOTSUP where it does
 * not exist or may not be read. It wraps at a machine-specific maximum; callers look at differences. */
int spot__rapl_uj(uint64_t *out);

/* ---- waiting on other processes that share a mapping ---- */

/* Gives the processor to another runnable thread (sched_yield), for spin-waits on a word another process writes. */
void spot__yield(void);
/* Tells the processor this thread is spinning on a word another thread or process writes (x86 pause, arm yield). */
static inline void spot__cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  __asm__ __volatile__("yield");
#else
  __asm__ __volatile__("" ::: "memory");
#endif
}
/* A bounded spin: `spot__spin_t s = {0}; while (!done()) if (!spot__spin(&s, ns)) break;` relaxes the processor
 * once per turn and reads the clock (vDSO, no system call) every 64 turns; 0 once ns have passed since the first. */
typedef struct spot__spin {
  uint64_t until;
  unsigned turns;
} spot__spin_t;
static inline int spot__spin(spot__spin_t *s, uint64_t ns) {
  if ((s->turns++ & 63) == 0) {
    uint64_t now = spot__now_ns();
    if (s->until == 0)
      s->until = now + ns;
    else if (now >= s->until)
      return 0;
  }
  spot__cpu_relax();
  return 1;
}
/* Spins until *word != expected or poll_ns have passed: 0 if it changed, SPOT_ETIMEDOUT if not. The polling half
 * of a wait that then sleeps on the word with spot__futex_wait. */
int spot__poll_word(const uint32_t *word, uint32_t expected, uint64_t poll_ns);
/* 1 if process pid may still run, 0 if it is gone or a zombie (it will never write again). A pid of another pid
 * namespace, or one reused by a new process, reads as alive: callers must only wait, never act, on a 1. */
int spot__pid_alive(int pid);

/* ---- futex: waiting on a 32-bit word, also across processes sharing the mapping ---- */

/* Sleeps while *word == expected, at most timeout_ns (0: no limit). Returns 0 when woken or when the word had
 * changed, SPOT_ETIMEDOUT on timeout. Spurious returns are allowed: callers re-check their condition. */
int spot__futex_wait(uint32_t *word, uint32_t expected, uint64_t timeout_ns);
/* Wakes every thread sleeping on word, in any process. */
void spot__futex_wake(uint32_t *word);

/* ---- memory ---- */

/* Faults in the pages of [addr, addr + len) of a writable mapping for writing, in one call rather than a page fault
 * each (Linux: madvise MADV_POPULATE_WRITE, 5.14 and later). Best effort: nothing happens where that is not
 * supported, and the pages then fault in one by one when written, as without it. */
void spot__prefault(void *addr, size_t len);

/* ---- threads ---- */

typedef struct spot__thread {
  _Alignas(8) unsigned char opaque[16];
} spot__thread_t;

/* Starts fn(arg) on a new thread. 0 or SPOT_ENOMEM. */
int spot__thread_start(spot__thread_t *t, void *(*fn)(void *), void *arg);
/* Waits for the thread to return. */
void spot__thread_join(spot__thread_t *t);
/* Lets the thread end on its own: its resources are freed when it returns, and it is never joined. For a thread
 * that cannot be stopped (thread mode's handler that overran its time limit). A port without threads never starts
 * one, so it never gets here. */
void spot__thread_detach(spot__thread_t *t);

/* ---- process-local mutex and condition variable ---- */

typedef struct spot__mutex {
  _Alignas(16) unsigned char opaque[64];
} spot__mutex_t;
typedef struct spot__cond {
  _Alignas(16) unsigned char opaque[64];
} spot__cond_t;

void spot__mutex_init(spot__mutex_t *m);
void spot__mutex_destroy(spot__mutex_t *m);
void spot__mutex_lock(spot__mutex_t *m);
void spot__mutex_unlock(spot__mutex_t *m);
void spot__cond_init(spot__cond_t *c);
void spot__cond_destroy(spot__cond_t *c);
void spot__cond_wait(spot__cond_t *c, spot__mutex_t *m);
void spot__cond_broadcast(spot__cond_t *c);

/* ---- files and directories (outside the log store's I/O table) ---- */

/* Creates directory path (one level) with mode 0755; 0 if it exists already. SPOT_EIO/SPOT_EPERM/SPOT_ENOTFOUND. */
int spot__mkdir(const char *path);
/* 1 if path is a directory, 0 if it is not or does not exist. */
int spot__is_dir(const char *path);
/* 1 if path exists (any kind of file). */
int spot__exists(const char *path);
/* Creates an empty regular file if missing (mode 0644). */
int spot__touch(const char *path);
/* Calls fn(name, arg) for every entry of dir other than "." and ".." (unordered); a non-zero return stops the walk
 * and is returned. SPOT_ENOTFOUND if dir cannot be read. */
int spot__dir_each(const char *dir, int (*fn)(const char *name, void *arg), void *arg);
/* Creates path as a new regular file readable and writable by its owner only (mode 0600), writes the n bytes at
 * data and syncs them. Never overwrites nor follows a symlink: SPOT_EEXIST if path exists. On any failure the file
 * is removed again. 0, SPOT_EEXIST, SPOT_ENOTFOUND (no such directory), SPOT_EPERM, SPOT_ENOSPC or SPOT_EIO. */
int spot__write_private(const char *path, const void *data, size_t n);
/* The modification time of path (following symlinks) in nanoseconds since the epoch, into *out.
 * 0, SPOT_ENOTFOUND if it does not exist, SPOT_EPERM or SPOT_EIO. */
int spot__mtime_ns(const char *path, uint64_t *out);
/* What tells one version of a file from another without reading it: its modification and status-change times
 * (ns since the epoch), its size, and which file it is (device and inode: a file renamed over it is another). */
typedef struct spot__file_stamp {
  uint64_t mtime_ns, ctime_ns, size, dev, ino;
} spot__file_stamp_t;
/* The stamp of path (following symlinks) into *out. 0, SPOT_ENOTFOUND if it does not exist, SPOT_EPERM or
 * SPOT_EIO. */
int spot__file_stamp(const char *path, spot__file_stamp_t *out);
/* Reads the whole regular file at path (at most max bytes) into a new NUL-terminated buffer *out (the caller frees
 * it) of *len bytes, and its permission bits (0777 part of the mode) into *mode (may be NULL). The file is opened
 * without blocking, so a FIFO or a device at path never stalls the caller: anything but a regular file is
 * SPOT_EINVAL. 0, SPOT_ENOTFOUND, SPOT_EPERM, SPOT_ETOOBIG (larger than max), SPOT_ENOMEM or SPOT_EIO; the
 * outputs are written only on success. */
int spot__read_regular(const char *path, size_t max, char **out, size_t *len, unsigned *mode);

/* ---- durability of memory-mapped files (what the log store's durability rests on) ----
 *
 * The store writes log files through a shared mapping and makes them durable with the io table's sync()
 * (spot/io.h; fdatasync in spot_io_posix()). POSIX specifies fsync/fdatasync for bytes written with write(); for
 * bytes written through a mapping it promises only msync(MS_SYNC). Linux keeps one page cache for both, so its
 * fdatasync writes back mapped pages too (and msync(MS_SYNC) is a ranged fdatasync there); other systems need not.
 * The contract each port states:
 *   SPOT__SYNC_COVERS_MAP 1: the file's sync writes back every page dirtied through a shared mapping of it. The
 *                            io table's flush is then NULL and the store never calls it (Linux: the fast path);
 *   SPOT__SYNC_COVERS_MAP 0: it does not. The io table's flush calls spot__map_flush() on the bytes written since
 *                            the last sync (the store passes each range: the slots appended and the header), and
 *                            sync() follows.
 * A build may set it with -DSPOT__SYNC_COVERS_MAP=0 to run the msync path on Linux. A port without a page cache
 * (baremetal, flash) implements its io table directly and states the same for its own mapping. */
#ifndef SPOT__SYNC_COVERS_MAP
#if defined(__linux__)
#define SPOT__SYNC_COVERS_MAP 1
#else
#define SPOT__SYNC_COVERS_MAP 0
#endif
#endif

/* Writes back to the file the pages of a shared file mapping that hold [addr, addr + len) (addr is rounded down to
 * its page), and waits for them (msync MS_SYNC). 0, or SPOT_EIO (the state of those pages on disk is then unknown,
 * as after a failed sync). */
int spot__map_flush(void *addr, size_t len);

/* ---- shared objects (handlers) ---- */

/* Loads the shared object at path (its constructors run, so its SPOT_HANDLERs register). Returns an opaque
 * handle, or NULL with a message in err. Objects are never unloaded: handlers may still be running. */
void *spot__dl_open(const char *path, char *err, size_t errcap);

/* ---- processes ---- */

/* Starts argv[0] (a path) with argv, its standard streams inherited, keep_fd (>= 0) left open in the child, and
 * the child killed when this process dies. Returns the pid (> 0) or a negative SPOT_E* code. */
int spot__spawn(char *const argv[], int keep_fd);
/* Reaps child pid if it has exited, without blocking, and never any other child (a program embedding spot may
 * have children of its own): returns pid (and *signal: the killing signal or 0, *status: the exit status), 0 if it
 * is still running, or SPOT_ENOTFOUND if pid is not a child of this process (reaped already). */
int spot__reap(int pid, int *signal, int *status);
/* Runs fn(arg, out, cap, len) in a short-lived child process, a copy of this one made without exec, so that what
 * fn does (run the constructors of an untrusted shared object, crash, hang) cannot harm this process. Only the
 * calling thread exists in the child: fn must not wait for locks other threads might have held. The child is
 * killed after timeout_ns. On success (the child returned from fn) *fn_rc is fn's return value and out holds the
 * *len bytes fn wrote (at most cap). Otherwise: SPOT_ETIMEDOUT (killed for time), or SPOT_EIO with *sig the signal
 * that killed the child (0: it exited without returning from fn, or could not be started). Output parameters are
 * written on every return (*sig 0 unless a signal killed it). */
int spot__run_isolated(int (*fn)(void *arg, void *out, size_t cap, size_t *len), void *arg, void *out, size_t cap,
                       size_t *len, int *fn_rc, int *sig, uint64_t timeout_ns);
/* Sends SIGKILL (hard) or SIGTERM to pid. */
void spot__kill(int pid, int hard);
/* This process's id (a system call). */
int spot__getpid(void);
/* The same, cached for hot paths; right after a fork() the child gets its own. */
int spot__pid_self(void);
/* The calling thread's id, unique among the running threads of every process in this pid namespace (Linux:
 * gettid), cached per thread; right after a fork() the child's thread gets its own. Never 0. Inline: every append
 * asks (store/lease.c). */
extern _Thread_local uint32_t spot__thread_id_cache __attribute__((tls_model("initial-exec")));
uint32_t spot__thread_id_slow(void);
static inline uint32_t spot__thread_id(void) {
  uint32_t t = spot__thread_id_cache;
  return t ? t : spot__thread_id_slow();
}
/* The path of the running executable, into buf. */
int spot__self_exe(char *buf, size_t cap);
/* A name for a signal number ("SIGSEGV", or "signal N" for one without a name here; valid until the next call
 * on this thread). */
const char *spot__signame(int sig);

/* Creates an anonymous shared memory file of size bytes and maps it: *fd stays open (for spot__spawn's keep_fd),
 * *addr is the mapping. spot__shm_map maps such an fd in a child. spot__shm_free unmaps addr and closes fd (-1:
 * none); the memory goes when the last process using it lets go. */
int spot__shm_create(size_t size, int *fd, void **addr);
int spot__shm_map(int fd, size_t size, void **addr);
void spot__shm_free(int fd, void *addr, size_t size);

/* ---- bounding what a worker's handlers print ---- */

typedef struct spot__capture {
  int pipe[2][2]; /* [stream][read, write] for standard output (0) and error (1) */
  int orig[2];    /* the streams as they were */
  int size[2];    /* each pipe's capacity in bytes, read once at the start (0: unknown) */
  size_t limit;   /* bytes a stream keeps per flush */
} spot__capture_t;

/* Points this process's standard output and error at pipes of about limit bytes each that nothing reads until
 * spot__capture_flush, made non-blocking: once a pipe is full, further writes fail (EAGAIN) and are dropped, so what
 * the process prints between two flushes is bounded. stdout is made unbuffered. 0 or SPOT_EIO. */
int spot__capture_start(spot__capture_t *c, size_t limit);
/* Whether anything was captured since the last flush: bit 0 for standard output, bit 1 for standard error. One
 * poll(2) with no wait, the whole cost of a flush when nothing was printed (a worker asks after every run). */
int spot__capture_ready(spot__capture_t *c);
/* Copies what was captured since the last flush to the original streams, each line prefixed with prefix (NULL:
 * none) and written whole (a last line without a newline gets one); when a stream reached its limit, its note (a
 * line saying that the rest was dropped) follows it. tail (tailcap bytes, may be NULL) gets the last non-empty line
 * captured, of standard error if it had one, else of standard output, cut to fit ("" if none). Clears stdio's
 * error state. Reads only the streams spot__capture_ready names. */
void spot__capture_flush(spot__capture_t *c, const char *prefix, const char *note_out, const char *note_err,
                         char *tail, size_t tailcap);

/* Arms c's crash path in this process: on SIGSEGV, SIGBUS, SIGFPE, SIGILL or SIGABRT (on an alternate stack, so
 * a stack overflow is caught too), what c captured since the last flush is copied to the original streams, each
 * line prefixed with what prefix(arg, buf, cap) writes into buf then, and the last non-empty line is left in tail
 * (tailcap bytes, may be NULL; "" if none); then the signal's default action kills the process as before. prefix
 * must use only async-signal-safe code. 0 or SPOT_EIO. */
int spot__capture_on_crash(spot__capture_t *c, void (*prefix)(void *arg, char *buf, size_t cap), void *arg,
                           char *tail, size_t tailcap);

/* ---- byte streams: a device's serial link ---- */

/* Opens path as a byte stream to a device: a unix-domain socket (QEMU's `-serial unix:PATH,server`) is connected
 * to, anything else (a tty, a pty) is opened read-write without becoming the controlling terminal and set raw
 * (8 bits, no echo, no translation). *fd is the caller's until spot__stream_close. 0, or SPOT_ENOTFOUND, SPOT_EPERM,
 * SPOT_EIO (with a detail line naming path: nothing listens there, not a terminal...). */
int spot__stream_open(const char *path, int *fd);
/* Reads what is there, up to cap bytes, waiting at most timeout_ns for the first: 0 with *got bytes (0 after the
 * time-out), SPOT_ECLOSED when the other end has gone (the caller closes and opens again), or SPOT_EIO. */
int spot__stream_read(int fd, void *buf, size_t cap, uint64_t timeout_ns, size_t *got);
/* Writes all n bytes, waiting at most timeout_ns in all. 0, SPOT_ETIMEDOUT, SPOT_ECLOSED or SPOT_EIO. */
int spot__stream_write(int fd, const void *buf, size_t n, uint64_t timeout_ns);
void spot__stream_close(int fd);

/* ---- randomness ---- */

/* Fills buf with n bytes from the OS's random source. */
void spot__random(void *buf, size_t n);

#endif
