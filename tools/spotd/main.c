/*
 * spotd: the spot node daemon. Serves one namespace on this host: runs the handlers of the puts made to it (in
 * worker processes by default, or on threads), and writes the node's event log.
 *
 *   spotd -n DIR [--mode worker|thread] [--workers N] [--timeout-ms MS] [--daemon] [--pidfile FILE] [--quiet]
 *         [--listen HOST:PORT --key NODE.key]      # serve the namespace to other nodes (ZeroMQ, CURVE)
 *
 * It runs in the foreground until SIGTERM or SIGINT, then stops taking events, lets running handlers end, and
 * exits; started again, it runs every handler left pending. One node per namespace (DIR/.spot/node.lock).
 * `spotd --worker FD INDEX DIR` is how spotd starts its own worker processes.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spot.h"
#if SPOT_HAVE_NET
#include "spot/net.h"
#endif
#include "spot/node.h"

static volatile sig_atomic_t stopping;

static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

static int usage(void) {
  fprintf(stderr, "usage: spotd -n DIR [--mode worker|thread] [--workers N] [--timeout-ms MS] [--daemon] "
                  "[--pidfile FILE] [--quiet] [--listen HOST:PORT --key NODE.key]\n");
  return 2;
}

static int fail(const char *what) {
  const char *d = spot_errdetail();
  fprintf(stderr, "spotd: %s%s%s\n", what, d[0] ? ": " : "", d);
  return 1;
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "--worker") == 0)
    return spot_node_worker_main(atoi(argv[2]), (unsigned)atoi(argv[3]), argv[4]);
  const char *dir = getenv("SPOT_DIR"), *pidfile = NULL, *listen = NULL, *key = NULL;
  int daemonize = 0;
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
    } else if (strcmp(a, "--quiet") == 0) {
      opts.quiet = 1;
    } else {
      return usage();
    }
  }
  if (dir == NULL || dir[0] == '\0')
    return fprintf(stderr, "spotd: no namespace: use -n DIR or set SPOT_DIR\n"), 2;
#if !SPOT_HAVE_NET
  if (listen)
    return fprintf(stderr, "spotd: --listen needs the network, and this spotd was built without it (-DSPOT_NET=OFF)\n"),
           2;
#endif
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

  /* fail early (before detaching) on a missing namespace; the node itself refuses a second node */
  spot_ns_t *probe;
  if (spot_ns_open(dir, NULL, &probe) != 0)
    return fail("cannot serve the namespace");
  spot_ns_close(probe);
  if (daemonize) {
    if (daemon(1, 0) != 0)
      return fprintf(stderr, "spotd: cannot detach: %s\n", strerror(errno)), 1;
  }
  char pid[32];
  snprintf(pid, sizeof pid, "%d\n", (int)getpid());
  if (pidfile) {
    FILE *f = fopen(pidfile, "w");
    if (f == NULL || fputs(pid, f) < 0 || fclose(f) != 0)
      return fprintf(stderr, "spotd: cannot write pid file %s\n", pidfile), 1;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  if (key && key[0])
    setenv("SPOT_KEY", key, 1); /* handlers' puts to other nodes (here and in the workers) use the node's key */
  spot_node_t *node;
  if (spot_node_start(dir, &opts, &node) != 0)
    return fail("cannot start the node");
#if SPOT_HAVE_NET
  spot_server_t *server = NULL;
  if (listen && spot_server_start(dir, listen, key, &server) != 0) {
    spot_node_stop(node);
    return fail("cannot serve the network");
  }
#endif
  if (!opts.quiet && listen)
    fprintf(stderr, "spotd: listening on %s (CURVE; rights in %s/access)\n", listen, dir);
  if (!opts.quiet)
    fprintf(stderr, "spotd: serving %s in %s mode with %u %s (pid %d)\n", dir,
            opts.mode == SPOT_MODE_WORKER ? "worker" : "thread", opts.workers,
            opts.mode == SPOT_MODE_WORKER ? "worker processes" : "threads", (int)getpid());
  while (!stopping)
    pause();
#if SPOT_HAVE_NET
  spot_server_stop(server);
#endif
  spot_node_stats_t st;
  spot_node_stats(node, &st);
  if (!opts.quiet)
    fprintf(stderr, "spotd: stopping after %llu handler runs (%llu failed so far): letting running handlers end\n",
            (unsigned long long)st.started, (unsigned long long)st.failed);
  spot_node_stop(node);
  if (!opts.quiet)
    fprintf(stderr, "spotd: stopped\n");
  if (pidfile)
    unlink(pidfile);
  return 0;
}
