/*
 * bench_mcu.c: figures of the microcontroller scale (JSON lines, one per figure):
 *   mcu_firmware_size        flash (text + data) and RAM (data + bss: the log arena and the stack included) of
 *                            spot_device.elf, from arm-none-eabi-size, against the 64 KiB / 16 KiB budget;
 *   mcu_put_no_handler, mcu_put_and_dispatch, mcu_crc32c_64B
 *                            instructions per operation on the Cortex-M3, from the spot_bench firmware run under
 *                            qemu-system-arm -icount shift=0 (one ns of virtual time per instruction);
 *   edge_local_rtt           remote `latest` round trips to the edge's own namespace (the ZeroMQ/CURVE part);
 *   serial_latest_rtt, serial_put_rtt
 *                            the same through the edge to the device over the emulated UART (QEMU, unix socket),
 *                            p50/p99, and the link's bytes/s (frames both ways) for puts of 24-byte elements;
 *   cloud_put_to_device_handler_start
 *                            a put at a cloud spotd naming its handler to_device, which puts to the device through
 *                            the edge naming the device's hello handler: from the put's call to hello's line on the
 *                            device's console (QEMU's semihosting output, on its stderr, read here through a pipe: one host clock);
 *   edge_put_to_device_handler_start
 *                            the same from a put straight to the device through the edge (no cloud hop).
 * Needs the firmware (BUILD/firmware), QEMU and a C compiler (the cloud's handler is built with spot build-handler);
 * says so and exits 0 when they are missing (benchmarks never gate).
 *   ./build/bench/bench_mcu        (about 30 s)
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "spot.h"
#include "spot/net.h"

#define ROUNDS 300
#define WARMUP 20
#define START_ROUNDS 100 /* handler-start rounds (each waits for a console line) */

static char scratch[256], fwdir[4200], bindir[4000];
static pid_t qemu = -1, edge = -1, cloud = -1;
static int console = -1; /* the read end of QEMU's semihosting output */
static char conbuf[8192];
static size_t conlen;


static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...) {
  char cmd[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  return system(cmd);
}

static void sizes(void) {
  char cmd[4400], line[512];
  snprintf(cmd, sizeof cmd, "arm-none-eabi-size %s/spot_device.elf", fwdir);
  FILE *p = popen(cmd, "r");
  unsigned long text = 0, data = 0, bss = 0;
  int got = 0;
  while (p && fgets(line, sizeof line, p))
    got |= sscanf(line, " %lu %lu %lu", &text, &data, &bss) == 3;
  if (p)
    pclose(p);
  if (!got) {
    fprintf(stderr, "bench_mcu: cannot read the firmware's size (arm-none-eabi-size)\n");
    return;
  }
  printf("{\"name\":\"mcu_firmware_size\",\"firmware\":\"spot_device.elf\",\"handlers\":[\"frost\",\"hello\",\"uplink\"],"
         "\"flash_bytes\":%lu,\"ram_bytes\":%lu,\"flash_budget\":65536,\"ram_budget\":16384,\"within_budget\":%s}\n",
         text + data, data + bss, text + data <= 65536 && data + bss <= 16384 ? "true" : "false");
  fflush(stdout);
}

static void icount(void) {
  char cmd[4400], line[512];
  snprintf(cmd, sizeof cmd,
           "timeout 120 qemu-system-arm -M mps2-an385 -icount shift=0 -nographic -monitor none -serial null "
           "-semihosting-config enable=on,target=native -kernel %s/spot_bench.elf 2>&1",
           fwdir);
  FILE *p = popen(cmd, "r");
  while (p && fgets(line, sizeof line, p))
    if (line[0] == '{')
      fputs(line, stdout);
  int rc = p ? pclose(p) : -1;
  if (rc != 0)
    fprintf(stderr, "bench_mcu: the bench firmware failed (status %d)\n", rc);
  fflush(stdout);
}

static void stop_all(void) {
  if (cloud > 0)
    kill(cloud, SIGTERM), waitpid(cloud, NULL, 0);
  if (edge > 0)
    kill(edge, SIGTERM), waitpid(edge, NULL, 0);
  if (qemu > 0)
    kill(qemu, SIGTERM), waitpid(qemu, NULL, 0);
  edge = qemu = cloud = -1;
  if (scratch[0])
    run("rm -rf %s", scratch);
}

static void report(const char *name, uint64_t *lat, size_t n, double seconds, const char *extra) {
  qsort(lat, n, sizeof lat[0], bench_cmp_u64);
  printf("{\"name\":\"%s\",\"link\":\"%s\",\"n\":%zu,\"ops_per_s\":%.0f,\"p50_us\":%.1f,\"p90_us\":%.1f,"
         "\"p99_us\":%.1f,\"max_us\":%.1f%s}\n",
         name,
         strncmp(name, "serial", 6) == 0 || strstr(name, "device") ? "zmq+curve to the edge, then the emulated UART"
                                                                   : "zmq+curve",
         n, (double)n / seconds, bench_pct_us(lat, n, 0.5), bench_pct_us(lat, n, 0.9), bench_pct_us(lat, n, 0.99), bench_pct_us(lat, n, 1.0), extra);
  fflush(stdout);
}

/* Bytes on the serial link for one put of elem bytes to log `log` of namespace `ns`, no handler: the request and
 * its reply (the layouts of src/core/wire.h: a 20-byte header; PUT: three counted names, two u64 causes, a u32
 * length and the data; the reply: an i32 status and the u64 sequence number), each in a frame of src/core/frame.h
 * (8 bytes of header, 4 of crc). */
static size_t put_link_bytes(const char *ns, const char *log, size_t elem) {
  size_t req = 20 + (1 + strlen(ns)) + (1 + strlen(log)) + 1 + 16 + 4 + elem;
  size_t rep = 20 + 4 + 8;
  return req + rep + 2 * 12;
}

/* Reads the device's console until a line holds `want` or timeout_ms pass. 1 if it came. */
static int console_wait(const char *want, int timeout_ms) {
  uint64_t deadline = bench_now_ns() + (uint64_t)timeout_ms * 1000000u;
  for (;;) {
    conbuf[conlen] = '\0';
    char *hit = strstr(conbuf, want);
    if (hit) { /* drop what was read up to the end of that line */
      char *eol = strchr(hit, '\n');
      size_t keep = eol ? conlen - (size_t)(eol + 1 - conbuf) : 0;
      memmove(conbuf, conbuf + conlen - keep, keep);
      conlen = keep;
      return 1;
    }
    if (conlen > sizeof conbuf / 2) { /* keep the tail only: a line is short */
      memmove(conbuf, conbuf + conlen - 256, 256);
      conlen = 256;
    }
    uint64_t now = bench_now_ns();
    if (now >= deadline)
      return 0;
    struct pollfd p = {console, POLLIN, 0};
    if (poll(&p, 1, (int)((deadline - now) / 1000000u) + 1) <= 0)
      continue;
    ssize_t n = read(console, conbuf + conlen, sizeof conbuf - 1 - conlen);
    if (n <= 0)
      return 0;
    conlen += (size_t)n;
  }
}

/* Puts `bench N` to url naming handler (the cloud's to_device, or the device's hello) and times until the device's
 * hello prints it. */
static void handler_start(spot_remote_t *r, const char *name, const char *url, const char *handler) {
  static uint64_t lat[START_ROUNDS];
  size_t n = 0;
  uint64_t start = bench_now_ns();
  for (int i = 0; i < START_ROUNDS + 5; i++) {
    char data[32] = "", want[64];
    snprintf(data, sizeof data, "bench %d", i);
    snprintf(want, sizeof want, "hello, bench %d!", i);
    uint64_t seq, t0 = bench_now_ns();
    if (spot_remote_put(r, url, data, sizeof data, handler, NULL, &seq) != 0) {
      fprintf(stderr, "bench_mcu: %s: %s\n", name, spot_errdetail());
      return;
    }
    if (!console_wait(want, 5000)) {
      fprintf(stderr, "bench_mcu: %s: the device's hello did not print '%s' within 5 s\n", name, want);
      return;
    }
    if (i == 5)
      start = t0;
    if (i >= 5) /* the first few warm up the connections */
      lat[n++] = bench_now_ns() - t0;
  }
  char extra[200];
  snprintf(extra, sizeof extra, ",\"handler\":\"hello (device)\",\"measured_to\":\"hello's console line\"");
  report(name, lat, n, (double)(bench_now_ns() - start) / 1e9, extra);
}

static void link_rtt(void) {
  char spot[4200], spotd[4200];
  snprintf(spot, sizeof spot, "%s/spot", bindir);
  snprintf(spotd, sizeof spotd, "%s/spotd", bindir);
  snprintf(scratch, sizeof scratch, "/tmp/spot-bench-mcu-XXXXXX");
  if (mkdtemp(scratch) == NULL)
    return;
  int port = 20000 + (int)((getpid() + 4093) % 20000);
  int cport = port + 1;
  /* edge and cloud share the node key (one server key for the client); the cloud's handler puts to the edge */
  if (run("cd %s && %s keygen node >/dev/null && %s keygen client >/dev/null && %s init edge >/dev/null && "
          "%s init cloud >/dev/null && echo \"$(cat client.pub) get,put,create\" > edge/access && "
          "echo \"$(cat node.pub) put\" >> edge/access && echo \"$(cat client.pub) get,put,create\" > cloud/access && "
          "printf '#include <spot/handler.h>\\nstatic int to_device(spot_ctx_t *ctx, const spot_event_t *ev) {\\n"
          "  return spot_ctx_put(ctx, \"spot://127.0.0.1:%d/dev/greetings\", ev->data, ev->size, \"hello\", NULL);\\n"
          "}\\nSPOT_HANDLER(to_device)\\n' > to_device.c && %s -n cloud build-handler to_device.c >/dev/null && "
          "%s -n cloud create readings --size 32 --history 1024 >/dev/null",
          scratch, spot, spot, spot, spot, port, spot, spot) != 0) {
    fprintf(stderr, "bench_mcu: cannot set up the edge and the cloud (keygen, init, build-handler)\n");
    return;
  }
  char sock[400], fw[4400], endpoint[64], dir[400], key[400];
  snprintf(sock, sizeof sock, "%s/dev.sock", scratch);
  snprintf(fw, sizeof fw, "%s/spot_device.elf", fwdir);
  snprintf(endpoint, sizeof endpoint, "127.0.0.1:%d", port);
  snprintf(dir, sizeof dir, "%s/edge", scratch);
  snprintf(key, sizeof key, "%s/node.key", scratch);
  int con[2];
  if (pipe(con) != 0)
    return;
  console = con[0];
  qemu = fork();
  if (qemu == 0) {
    char serial[500];
    snprintf(serial, sizeof serial, "unix:%s,server=on,wait=off", sock);
    int null = open("/dev/null", 1);
    dup2(null, 1);
    dup2(con[1], 2); /* semihosting output goes to QEMU's stderr: the device's console, hello's lines */
    close(con[0]);
    execlp("qemu-system-arm", "qemu-system-arm", "-M", "mps2-an385", "-display", "none", "-monitor", "none",
           "-serial", serial, "-semihosting-config", "enable=on,target=native", "-kernel", fw, (char *)NULL);
    _exit(127);
  }
  struct stat st;
  for (int i = 0; i < 100 && stat(sock, &st) != 0; i++)
    usleep(100000);
  edge = fork();
  if (edge == 0) {
    char serial[500];
    snprintf(serial, sizeof serial, "dev=%s", sock);
    execl(spotd, "spotd", "-n", dir, "--quiet", "--mode", "thread", "--listen", endpoint, "--key", key, "--serial",
          serial, (char *)NULL);
    _exit(127);
  }
  close(con[1]);
  char cdir[400], cendpoint[64], npub_env[420];
  snprintf(cdir, sizeof cdir, "%s/cloud", scratch);
  snprintf(cendpoint, sizeof cendpoint, "127.0.0.1:%d", cport);
  snprintf(npub_env, sizeof npub_env, "%s/node.pub", scratch);
  cloud = fork();
  if (cloud == 0) {
    setenv("SPOT_NODE_KEY", npub_env, 1); /* the edge's server key, for the cloud handler's puts */
    execl(spotd, "spotd", "-n", cdir, "--quiet", "--mode", "thread", "--listen", cendpoint, "--key", key,
          (char *)NULL);
    _exit(127);
  }
  char ckey[400], npub[400], local[200], dev_t[200];
  snprintf(ckey, sizeof ckey, "%s/client.key", scratch);
  snprintf(npub, sizeof npub, "%s/node.pub", scratch);
  snprintf(local, sizeof local, "spot://%s/edge/dev-outbox", endpoint);
  snprintf(dev_t, sizeof dev_t, "spot://%s/dev/temperature", endpoint);
  spot_remote_t *r;
  if (spot_remote_new(ckey, npub, 10000, &r) != 0) {
    fprintf(stderr, "bench_mcu: %s\n", spot_errdetail());
    return;
  }
  uint64_t seq;
  int up = 0;
  for (int i = 0; i < 100 && !up; i++) {
    up = spot_remote_latest(r, dev_t, &seq) == 0;
    if (!up)
      usleep(100000);
  }
  if (!up) {
    fprintf(stderr, "bench_mcu: the device did not answer through the edge: %s\n", spot_errdetail());
    spot_remote_free(r);
    return;
  }
  static uint64_t lat[ROUNDS];
  const char *names[3] = {"edge_local_rtt", "serial_latest_rtt", "serial_put_rtt"};
  for (int b = 0; b < 3; b++) {
    uint64_t start = 0;
    for (int i = 0; i < WARMUP + ROUNDS; i++) {
      if (i == WARMUP)
        start = bench_now_ns();
      uint64_t t0 = bench_now_ns();
      int rc = b == 0   ? spot_remote_latest(r, local, &seq)
               : b == 1 ? spot_remote_latest(r, dev_t, &seq)
                        : spot_remote_put(r, dev_t, "a 24-byte reading......", 24, NULL, NULL, &seq);
      if (rc != 0) {
        fprintf(stderr, "bench_mcu: %s: %s\n", names[b], spot_errdetail());
        spot_remote_free(r);
        return;
      }
      if (i >= WARMUP)
        lat[i - WARMUP] = bench_now_ns() - t0;
    }
    double secs = (double)(bench_now_ns() - start) / 1e9;
    char extra[200] = "";
    if (b == 2)
      snprintf(extra, sizeof extra, ",\"elem_bytes\":24,\"link_bytes_per_put\":%zu,\"link_bytes_per_s\":%.0f",
               put_link_bytes("dev", "temperature", 24),
               (double)put_link_bytes("dev", "temperature", 24) * ROUNDS / secs);
    report(names[b], lat, ROUNDS, secs, extra);
  }
  char cloud_url[200], dev_g[200];
  snprintf(cloud_url, sizeof cloud_url, "spot://%s/cloud/readings", cendpoint);
  snprintf(dev_g, sizeof dev_g, "spot://%s/dev/greetings", endpoint);
  handler_start(r, "cloud_put_to_device_handler_start", cloud_url, "to_device");
  handler_start(r, "edge_put_to_device_handler_start", dev_g, "hello");
  spot_remote_free(r);
}

int main(void) {
  bench_build_dir(bindir, sizeof bindir);
  const char *fd = getenv("SPOT_FIRMWARE_DIR");
  snprintf(fwdir, sizeof fwdir, "%s", fd && fd[0] ? fd : "");
  if (!fwdir[0])
    snprintf(fwdir, sizeof fwdir, "%s/firmware", bindir);
  char probe[4300];
  snprintf(probe, sizeof probe, "%s/spot_device.elf", fwdir);
  if (access(probe, R_OK) != 0 || system("command -v qemu-system-arm >/dev/null 2>&1") != 0) {
    fprintf(stderr, "bench_mcu: no firmware at %s or no qemu-system-arm: nothing to measure (scripts/deps.sh)\n",
            fwdir);
    return 0;
  }
  sizes();
  icount();
  link_rtt();
  stop_all();
  return 0;
}
