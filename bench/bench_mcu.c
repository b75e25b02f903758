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
 *                            p50/p99, and the link's bytes/s (frames both ways) for puts of 24-byte elements.
 * Needs the firmware (BUILD/firmware) and QEMU; says so and exits 0 when they are missing (benchmarks never gate).
 *   ./build/bench/bench_mcu        (about 20 s)
 */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spot.h"
#include "spot/net.h"

#define ROUNDS 300
#define WARMUP 20

static char scratch[256], fwdir[4200], bindir[4000];
static pid_t qemu = -1, edge = -1;

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}
static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}
static double pct(const uint64_t *v, size_t n, double p) { return v[(size_t)(p * (double)(n - 1))] / 1000.0; }

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
  printf("{\"name\":\"mcu_firmware_size\",\"firmware\":\"spot_device.elf\",\"handlers\":[\"frost\",\"hello\"],"
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
  if (edge > 0)
    kill(edge, SIGTERM), waitpid(edge, NULL, 0);
  if (qemu > 0)
    kill(qemu, SIGTERM), waitpid(qemu, NULL, 0);
  edge = qemu = -1;
  if (scratch[0])
    run("rm -rf %s", scratch);
}

static void report(const char *name, uint64_t *lat, size_t n, double seconds, const char *extra) {
  qsort(lat, n, sizeof lat[0], cmp_u64);
  printf("{\"name\":\"%s\",\"link\":\"%s\",\"n\":%zu,\"ops_per_s\":%.0f,\"p50_us\":%.1f,\"p90_us\":%.1f,"
         "\"p99_us\":%.1f,\"max_us\":%.1f%s}\n",
         name, strncmp(name, "serial", 6) == 0 ? "zmq+curve to the edge, then the emulated UART" : "zmq+curve",
         n, (double)n / seconds, pct(lat, n, 0.5), pct(lat, n, 0.9), pct(lat, n, 0.99), pct(lat, n, 1.0), extra);
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

static void link_rtt(void) {
  char spot[4200], spotd[4200];
  snprintf(spot, sizeof spot, "%s/spot", bindir);
  snprintf(spotd, sizeof spotd, "%s/spotd", bindir);
  snprintf(scratch, sizeof scratch, "/tmp/spot-bench-mcu-XXXXXX");
  if (mkdtemp(scratch) == NULL)
    return;
  int port = 20000 + (int)((getpid() + 4093) % 20000);
  if (run("cd %s && %s keygen node >/dev/null && %s keygen client >/dev/null && %s init edge >/dev/null && "
          "echo \"$(cat client.pub) get,put,create\" > edge/access",
          scratch, spot, spot, spot) != 0)
    return;
  char sock[400], fw[4400], endpoint[64], dir[400], key[400];
  snprintf(sock, sizeof sock, "%s/dev.sock", scratch);
  snprintf(fw, sizeof fw, "%s/spot_device.elf", fwdir);
  snprintf(endpoint, sizeof endpoint, "127.0.0.1:%d", port);
  snprintf(dir, sizeof dir, "%s/edge", scratch);
  snprintf(key, sizeof key, "%s/node.key", scratch);
  qemu = fork();
  if (qemu == 0) {
    char serial[500];
    snprintf(serial, sizeof serial, "unix:%s,server=on,wait=off", sock);
    int null = open("/dev/null", 1);
    dup2(null, 1);
    dup2(null, 2);
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
        start = now_ns();
      uint64_t t0 = now_ns();
      int rc = b == 0   ? spot_remote_latest(r, local, &seq)
               : b == 1 ? spot_remote_latest(r, dev_t, &seq)
                        : spot_remote_put(r, dev_t, "a 24-byte reading......", 24, NULL, NULL, &seq);
      if (rc != 0) {
        fprintf(stderr, "bench_mcu: %s: %s\n", names[b], spot_errdetail());
        spot_remote_free(r);
        return;
      }
      if (i >= WARMUP)
        lat[i - WARMUP] = now_ns() - t0;
    }
    double secs = (double)(now_ns() - start) / 1e9;
    char extra[200] = "";
    if (b == 2)
      snprintf(extra, sizeof extra, ",\"elem_bytes\":24,\"link_bytes_per_put\":%zu,\"link_bytes_per_s\":%.0f",
               put_link_bytes("dev", "temperature", 24),
               (double)put_link_bytes("dev", "temperature", 24) * ROUNDS / secs);
    report(names[b], lat, ROUNDS, secs, extra);
  }
  spot_remote_free(r);
}

int main(void) {
  char exe[3900];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  exe[n > 0 ? n : 0] = '\0';
  snprintf(bindir, sizeof bindir, "%s", exe);
  for (int up = 0; up < 2; up++) /* build/bench/bench_mcu -> build */
    if (strrchr(bindir, '/'))
      *strrchr(bindir, '/') = '\0';
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
