/*
 * spotd: the spot node daemon. Serves one namespace on this host: runs the handlers of the puts made to it (in
 * worker processes by default, or on threads), and writes the node's event log.
 *
 *   spotd -n DIR [--mode worker|thread] [--workers N] [--timeout-ms MS] [--daemon] [--pidfile FILE] [--quiet]
 *         [--poll-us N]                             # idle threads look for work N us before sleeping
 *         [--listen HOST:PORT --key NODE.key]      # serve the namespace to other nodes (ZeroMQ, CURVE)
 *         [--serial NAME=PATH]...                   # and a device on a serial link as namespace NAME
 *         [--mqtt HOST:PORT --bridge 'LOG<-TOPIC[:HANDLER]' --bridge 'LOG->TOPIC' ...]   # bridges.c
 *         [--mirror LOG=nats://HOST:PORT[/STREAM] ...]  # a log kept copied into a JetStream stream (bridges.c)
 *         [--log FILE] [--log-level error|warn|info|debug]  # its own lines and its handlers' output (log.c)
 *         [--pool nats://HOST:PORT --pool-name NAME --pool-log LOG:HANDLER]  # handler work shared (bridges.c)
 *
 * It runs in the foreground until SIGTERM or SIGINT, then stops taking events, lets running handlers end, and
 * exits; started again, it runs every handler left pending. One node per namespace (DIR/.spot/node.lock).
 * `spotd --worker FD INDEX DIR` is how spotd starts its own worker processes.
 *
 * Start-up order matters: SIGTERM and SIGINT are blocked first thing (and its threads inherit that), so a stop
 * signal that comes while it starts waits until spotd sleeps in sigsuspend, which opens them atomically (no signal
 * is lost between checking the flag and sleeping, and a mask inherited from the caller cannot keep it deaf). The
 * node lock is taken before the pid file is written, so a second spotd fails with "already served" and leaves the
 * first one's pid file alone; the pid file is written whole (a temporary file renamed into place) and removed at
 * exit only while it still names this process. With --daemon, the starting process waits until the detached one
 * is serving (or has failed, printing why) and exits with its status. Under systemd (Type=notify,
 * packaging/spotd@.service) it sends READY=1 at the same point, and STOPPING=1 when a stop signal comes.
 *
 * Its log (log.c): levelled lines on stderr (journald priorities under systemd), or with --log FILE (--daemon:
 * DIR/.spot/spotd.log unless --log says otherwise) everything spotd, its workers and their handlers write goes to
 * FILE, stamped; SIGHUP, blocked and taken like the stop signals, makes it open FILE anew (log rotation).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "help.h"
#include "log.h"
#include "notify.h"
#include "spot.h"
#if SPOT_HAVE_NET
#include "spot/net.h"
#endif
#include "spot/node.h"
#include "spotd.h"

static volatile sig_atomic_t stopping, hangup;

static void on_signal(int sig) {
  if (sig == SIGHUP) {
    hangup = 1;
    spotd_log_reopen();
  } else {
    stopping = 1;
  }
}

static int usage(void) {
  fprintf(stderr, "usage: spotd -n DIR [--mode worker|thread] [--workers N] [--timeout-ms MS] [--daemon] "
                  "[--pidfile FILE] [--quiet] [--log FILE] [--log-level LEVEL] [--watts W] [--metrics HOST:PORT]\n"
                  "       [--poll-us N]\n"
                  "       [--listen HOST:PORT --key NODE.key [--serial NAME=PATH]...]\n"
                  "       [--mqtt HOST:PORT --bridge ROUTE ...] [--mirror LOG=nats://HOST:PORT[/STREAM] ...]\n"
                  "  (spotd --help says more)\n");
  return 2;
}

static int fail(const char *what) {
  const char *d = spot_errdetail();
  SPOTD_LOG(SPOTD_LOG_ERROR, "%s%s%s", what, d[0] ? ": " : "", d);
  return 1;
}

/* Writes this process's id to path: a temporary file beside it, renamed into place, so that a reader never sees a
 * half-written file. 0 or -1 (errno set). */
static int write_pidfile(const char *path) {
  char tmp[4200], pid[32];
  int len = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
  if ((size_t)snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid()) >= sizeof tmp) {
    errno = ENAMETOOLONG;
    return -1;
  }
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0)
    return -1;
  int ok = write(fd, pid, (size_t)len) == len;
  int e = errno;
  if (close(fd) != 0 && ok)
    ok = 0, e = errno;
  if (ok && rename(tmp, path) != 0)
    ok = 0, e = errno;
  if (!ok) {
    unlink(tmp);
    errno = e;
    return -1;
  }
  return 0;
}

/* Removes the pid file at path if it still holds this process's id (it never removes another spotd's). */
static void remove_pidfile(const char *path) {
  char got[32] = "", want[32];
  snprintf(want, sizeof want, "%d\n", (int)getpid());
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return;
  ssize_t n = read(fd, got, sizeof got - 1);
  close(fd);
  if (n > 0 && (got[n] = '\0', strcmp(got, want) == 0))
    unlink(path);
}

/* --daemon: forks; the parent waits until the child says it serves (one byte on a pipe) or exits, and then exits
 * with 0 or with the child's status (the child has printed why on the shared stderr). The child starts a new
 * session and returns the pipe's write end in *ready_fd. Returns 0 in the child, -1 on failure (errno set). */
static int detach(int *ready_fd) {
  int p[2];
  if (pipe(p) != 0)
    return -1;
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid > 0) {
    close(p[1]);
    char c;
    ssize_t n;
    do
      n = read(p[0], &c, 1);
    while (n < 0 && errno == EINTR);
    if (n == 1)
      _exit(0);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    _exit(WIFEXITED(st) && WEXITSTATUS(st) != 0 ? WEXITSTATUS(st) : 1);
  }
  close(p[0]);
  fcntl(p[1], F_SETFD, FD_CLOEXEC);
  if (setsid() < 0)
    return -1;
  *ready_fd = p[1];
  return 0;
}

/* The detached spotd serves: tell the waiting parent, and let go of the terminal (its stdout and stderr already go
 * to the log file). */
static void detached_ready(int ready_fd) {
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) {
    dup2(null, 0);
    if (spotd_log_path() == NULL) {
      dup2(null, 1);
      dup2(null, 2);
    }
    if (null > 2)
      close(null);
  }
  if (write(ready_fd, "k", 1) != 1) {
    /* the parent is gone: nothing to tell */
  }
  close(ready_fd);
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "--worker") == 0) {
    sigset_t none; /* a worker starts with no signal blocked, whatever its parent's threads had */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    return spot_node_worker_main(atoi(argv[2]), (unsigned)atoi(argv[3]), argv[4]);
  }
  /* Block the stop signals before anything else; wait_mask is the mask to sleep with: the caller's, with them open. */
  sigset_t stop_sigs, wait_mask;
  sigemptyset(&stop_sigs);
  sigaddset(&stop_sigs, SIGTERM);
  sigaddset(&stop_sigs, SIGINT);
  sigaddset(&stop_sigs, SIGHUP);
  sigprocmask(SIG_BLOCK, &stop_sigs, &wait_mask);
  sigdelset(&wait_mask, SIGTERM);
  sigdelset(&wait_mask, SIGINT);
  sigdelset(&wait_mask, SIGHUP);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  spotd_log_init();

  const char *dir = getenv("SPOT_DIR"), *pidfile = NULL, *listen = NULL, *key = NULL, *logfile = NULL;
  const char *metrics = NULL;
  int daemonize = 0;
  const char *serial[8];
  int nserial = 0;
  spot_node_opts_t opts = {.mode = SPOT_MODE_WORKER, .workers = 2};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if ((strcmp(a, "-n") == 0 || strcmp(a, "--namespace") == 0) && v)
      dir = argv[++i];
    else if (strcmp(a, "--mode") == 0 && v) {
      i++;
      if (strcmp(v, "worker") == 0)
        opts.mode = SPOT_MODE_WORKER;
      else if (strcmp(v, "thread") == 0)
        opts.mode = SPOT_MODE_THREAD;
      else
        return fprintf(stderr, "spotd: --mode must be worker or thread, not '%s'\n", v), 2;
    } else if (strcmp(a, "--workers") == 0 && v) {
      opts.workers = (unsigned)atoi(argv[++i]);
      if (opts.workers < 1 || opts.workers > 64)
        return fprintf(stderr, "spotd: --workers must be 1 to 64\n"), 2;
    } else if (strcmp(a, "--timeout-ms") == 0 && v) {
      opts.timeout_ms = (uint32_t)atoi(argv[++i]);
    } else if (strcmp(a, "--daemon") == 0) {
      daemonize = 1;
    } else if (strcmp(a, "--pidfile") == 0 && v) {
      pidfile = argv[++i];
    } else if (strcmp(a, "--listen") == 0 && v) {
      listen = argv[++i];
    } else if (strcmp(a, "--key") == 0 && v) {
      key = argv[++i];
    } else if (strcmp(a, "--serial") == 0 && v) {
      if (nserial == 8 || strchr(v, '=') == NULL)
        return fprintf(stderr, "spotd: --serial NAME=PATH (a tty, pty or unix socket), at most 8 devices\n"), 2;
      serial[nserial++] = argv[++i];
    } else if (strcmp(a, "--quiet") == 0) {
      opts.quiet = 1; /* the library's lines about the node's life, and spotd's below errors */
      spotd_log_level = SPOTD_LOG_ERROR;
    } else if (strcmp(a, "--log") == 0 && v) {
      logfile = argv[++i];
    } else if (strcmp(a, "--log-level") == 0 && v) {
      if (spotd_log_parse_level(argv[++i], &spotd_log_level) != 0)
        return fprintf(stderr, "spotd: --log-level must be error, warn, info or debug, not '%s'\n", v), 2;
    } else if (strcmp(a, "--metrics") == 0 && v) {
      metrics = argv[++i];
    } else if (strcmp(a, "--poll-us") == 0 && v) {
      char *end;
      unsigned long us = strtoul(argv[++i], &end, 10);
      if (end == argv[i] || *end != '\0' || us > SPOT_NODE_POLL_US_MAX)
        return fprintf(stderr, "spotd: --poll-us N: microseconds an idle node looks for work before it sleeps, 0 to "
                       "%u, not %s\n", SPOT_NODE_POLL_US_MAX, argv[i]), 2;
      opts.poll_us = (uint32_t)us;
    } else if (strcmp(a, "--watts") == 0 && v) {
      char *end;
      opts.watts = strtod(argv[++i], &end);
      if (end == argv[i] || *end != '\0' || !(opts.watts > 0 && opts.watts <= 100000))
        return fprintf(stderr, "spotd: --watts W: the power of one busy CPU in watts (> 0), not %s\n", argv[i]), 2;
    } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      spot_help_print(spot_help_find("spotd"), stdout);
      return 0;
    } else if (strcmp(a, "--version") == 0) {
      printf("spotd %s\n", SPOT_VERSION);
      return 0;
    } else {
      int taken = spotd_bridge_option(argc, argv, &i);
      if (taken < 0)
        return 2;
      if (taken == 0)
        return usage();
    }
  }
  if (spotd_bridges_check() != 0)
    return 2;
  if (dir == NULL || dir[0] == '\0')
    return fprintf(stderr, "spotd: no namespace: use -n DIR or set SPOT_DIR\n"), 2;
#if !SPOT_HAVE_NET
  if (listen)
    return fprintf(stderr, "spotd: --listen needs the network, and this spotd was built without it (-DSPOT_NET=OFF)\n"),
           2;
#endif
  (void)serial; /* used only with the network */
  if (nserial > 0 && listen == NULL)
    return fprintf(stderr, "spotd: --serial serves a device to other nodes: it needs --listen HOST:PORT\n"), 2;
  if (listen && (key == NULL || key[0] == '\0'))
    key = getenv("SPOT_KEY");
  if (listen && (key == NULL || key[0] == '\0'))
    return fprintf(stderr, "spotd: --listen needs the node's key pair: --key NODE.key (make one with `spot keygen "
                           "NODE`)\n"), 2;
  static char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0)
    return fprintf(stderr, "spotd: cannot find its own program (/proc/self/exe)\n"), 1;
  exe[n] = '\0';
  opts.worker_exe = exe;

  /* fail early on a missing namespace; the node itself refuses a second node */
  spot_ns_t *probe;
  if (spot_ns_open(dir, NULL, &probe) != 0)
    return fail("cannot serve the namespace");
  spot_ns_close(probe);
  static char default_log[4200];
  if (daemonize && logfile == NULL) { /* a daemon's output is kept, never thrown away */
    snprintf(default_log, sizeof default_log, "%s/.spot/spotd.log", dir);
    logfile = default_log;
  }
  int ready_fd = -1;
  if (daemonize && detach(&ready_fd) != 0)
    return fprintf(stderr, "spotd: cannot detach: %s\n", strerror(errno)), 1;
  if (logfile) { /* after detach: the logger thread belongs to the process that serves */
    if (spotd_log_open(logfile) != 0)
      return fprintf(stderr, "spotd: cannot open the log %s: %s (check the directory and its rights, or use "
                             "--log FILE)\n", logfile, strerror(errno)), 1;
    atexit(spotd_log_close); /* whatever path main returns by, the log is drained */
  }

  if (key && key[0])
    setenv("SPOT_KEY", key, 1); /* handlers' puts to other nodes (here and in the workers) use the node's key */
  spot_node_t *node;
  if (spot_node_start(dir, &opts, &node) != 0) /* takes the node lock: a second spotd stops here */
    return fail("cannot start the node");
  if (pidfile && write_pidfile(pidfile) != 0) {
    SPOTD_LOG(SPOTD_LOG_ERROR, "cannot write pid file %s: %s", pidfile, strerror(errno));
    spot_node_stop(node);
    return 1;
  }
#if SPOT_HAVE_NET
  spot_server_t *server = NULL;
  if (listen && spot_server_start(dir, listen, key, &server) != 0) {
    int rc = fail("cannot serve the network");
    spot_node_stop(node);
    if (pidfile)
      remove_pidfile(pidfile);
    return rc;
  }
  for (int i = 0; server && i < nserial; i++) {
    char name[128];
    const char *eq = strchr(serial[i], '=');
    snprintf(name, sizeof name, "%.*s", (int)(eq - serial[i]), serial[i]);
    if (spot_server_attach_serial(server, name, eq + 1) != 0) {
      int rc = fail("cannot attach the device");
      spot_server_stop(server);
      spot_node_stop(node);
      if (pidfile)
        remove_pidfile(pidfile);
      return rc;
    }
    SPOTD_LOG(SPOTD_LOG_INFO, "serving the device at %s as namespace %s", eq + 1, name);
  }
#endif
  if (spotd_bridges_start(dir, opts.quiet, opts.timeout_ms, opts.workers) != 0 || (metrics && spotd_metrics_start(dir, metrics) != 0)) {
    spotd_bridges_stop(1);
#if SPOT_HAVE_NET
    spot_server_stop(server);
#endif
    spot_node_stop(node);
    if (pidfile)
      remove_pidfile(pidfile);
    return 1;
  }
#if SPOT_HAVE_NET
  if (server) { /* from now on a remote check --fix or rm has the node step aside (aside.c); until now they were
                   refused while the node held the log */
    spotd_aside_init(dir, &opts, node);
    spot_server_set_exclusive(server, spotd_aside, NULL);
  }
#endif
  if (listen)
    SPOTD_LOG(SPOTD_LOG_INFO, "listening on %s (CURVE; rights in %s/access)", listen, dir);
  if (metrics)
    SPOTD_LOG(SPOTD_LOG_INFO, "metrics at http://%s/metrics", metrics);
  SPOTD_LOG(SPOTD_LOG_INFO, "serving %s in %s mode with %u %s (pid %d)%s%s", dir,
            opts.mode == SPOT_MODE_WORKER ? "worker" : "thread", opts.workers,
            opts.mode == SPOT_MODE_WORKER ? "worker processes" : "threads", (int)getpid(),
            logfile ? "; log " : "", logfile ? logfile : "");
  if (ready_fd >= 0)
    detached_ready(ready_fd);
  spotd_log_detach(); /* from now on, error lines go to the log only */
  /* under systemd (Type=notify): ready now that the node lock is held, the pid file written and the network up */
  char ready[4300];
  snprintf(ready, sizeof ready, "READY=1\nMAINPID=%d\nSTATUS=serving %s", (int)getpid(), dir);
  if (spotd_notify(ready) < 0)
    SPOTD_LOG(SPOTD_LOG_WARN, "cannot tell systemd it is ready ($NOTIFY_SOCKET): %s", strerror(errno));
  while (!stopping) {
    sigsuspend(&wait_mask); /* opens the stop signals and sleeps in one step: none is missed */
    if (hangup) {
      hangup = 0;
      if (logfile)
        SPOTD_LOG(SPOTD_LOG_INFO, "SIGHUP: log %s opened anew", logfile);
      else
        SPOTD_LOG(SPOTD_LOG_INFO, "SIGHUP: no --log file to open anew; going on");
    }
  }
  spotd_notify("STOPPING=1");
  spotd_metrics_stop();
  spotd_bridges_stop(opts.quiet);
#if SPOT_HAVE_NET
  spot_server_stop(server);
  if (server)
    node = spotd_aside_node(); /* the node may have been restarted by a check --fix or rm (or failed to) */
#endif
  spot_node_stats_t st = {0};
  if (node)
    spot_node_stats(node, &st);
  SPOTD_LOG(SPOTD_LOG_INFO, "stopping after %llu handler runs (%llu failed so far: non-zero returns, crashes, "
            "time-outs): letting running handlers end", (unsigned long long)st.started,
            (unsigned long long)st.failed);
  spot_node_stop(node);
  SPOTD_LOG(SPOTD_LOG_INFO, "stopped");
  if (pidfile)
    remove_pidfile(pidfile);
  return 0;
}
