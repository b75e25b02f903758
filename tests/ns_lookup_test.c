/*
 * ns_lookup_test.c: the namespace's table of open logs, found by name (src/store/ns.c). After many creates every
 * name finds its own log (the table grew several times meanwhile); two names with the same 32-bit hash each find
 * their own, and a third name with that hash is not found; readers looking names up on other threads while logs
 * are added always get the handle the name was first given. Logs live in the in-memory io (spot_io_mem).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spot.h"
#include "spot/io_mem.h"
#include "store/store.h"
#include "support.h"
#include "test.h"

#define MANY 700

/* An empty namespace on the in-memory io, opened into *ns. */
static int open_ns(const char *tag, spot_io_t **io, spot_ns_t **ns) {
  char dir[4300];
  snprintf(dir, sizeof dir, "%s/ns", spot_test_dir(tag));
  if ((*io = spot_io_mem_new(1)) == NULL)
    return SPOT_ENOMEM;
  int rc = spot__ns_init_io(dir, *io, NULL, 0);
  if (rc == 0)
    rc = spot_ns_open(dir, *io, ns);
  return rc;
}

/* Creates log name holding one element, the number v. */
static int make_log(spot_ns_t *ns, const char *name, uint64_t v) {
  spot_log_config_t cfg = {.elem_size = 8, .history = 2};
  int rc = spot_ns_create_log(ns, name, &cfg);
  spot_log_t *l;
  uint64_t seq;
  if (rc == 0)
    rc = spot__ns_log(ns, name, &l);
  if (rc == 0)
    rc = spot_log_append(l, &v, sizeof v, &seq);
  return rc;
}

/* The number log l holds (its latest element). */
static uint64_t value_of(spot_log_t *l) {
  uint64_t seq = 0, v = ~0ull;
  if (spot_log_latest(l, &seq) != 0 || spot_log_read(l, seq, &v, sizeof v) != 0)
    return ~0ull;
  return v;
}

static void test_every_name_after_many_creates(void) {
  spot_io_t *io;
  spot_ns_t *ns;
  CHECK_OK(open_ns("ns-many", &io, &ns));
  static spot_log_t *first[MANY];
  char name[32];
  for (int i = 0; i < MANY; i++) {
    snprintf(name, sizeof name, "log%d", i);
    CHECK_OK(make_log(ns, name, (uint64_t)i));
    CHECK_OK(spot__ns_log(ns, name, &first[i]));
    if (i % 97 == 0) /* the names made so far still find theirs while the table grows */
      for (int j = 0; j <= i; j++) {
        spot_log_t *l;
        snprintf(name, sizeof name, "log%d", j);
        CHECK_OK(spot__ns_log(ns, name, &l));
        CHECK(l == first[j]);
      }
  }
  for (int i = MANY - 1; i >= 0; i--) {
    spot_log_t *l;
    snprintf(name, sizeof name, "log%d", i);
    CHECK_OK(spot__ns_log(ns, name, &l));
    CHECK(l == first[i]);
    CHECK_EQ(value_of(l), i);
  }
  spot_log_t *l;
  CHECK_RC(spot__ns_log(ns, "log700", &l), SPOT_ENOTFOUND);   /* never made */
  CHECK_RC(spot__ns_log(ns, "no/such", &l), SPOT_EBADNAME);   /* not a name */
  char longname[100];
  memset(longname, 'x', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  CHECK_RC(spot__ns_log(ns, longname, &l), SPOT_EBADNAME);
  spot_ns_close(ns);
  spot_io_mem_free(io);
}

typedef struct named {
  uint32_t hash;
  uint32_t n;
} named_t;

static int by_hash(const void *a, const void *b) {
  const named_t *x = a, *y = b;
  return x->hash < y->hash ? -1 : x->hash > y->hash ? 1 : (x->n > y->n) - (x->n < y->n);
}

/* Name number i of the collision search: 'c' and ten letters drawn from i (names counted in order rarely collide
 * under FNV-1a; random ones do as often as the birthday bound says). */
static void collide_name(uint32_t i, char out[32]) {
  uint64_t x = (uint64_t)i * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
  out[0] = 'c';
  for (int k = 1; k <= 10; k++) {
    x ^= x >> 29, x *= 0xBF58476D1CE4E5B9ull, x ^= x >> 32;
    out[k] = (char)('a' + x % 26);
  }
  out[11] = '\0';
}

static void test_hash_collisions(void) {
  /* two names with the same full 32-bit hash: among 300,000 random names, about ten such pairs are expected */
  enum { N = 300000 };
  named_t *v = malloc(N * sizeof *v);
  CHECK(v != NULL);
  char name[32];
  for (uint32_t i = 0; i < N; i++) {
    collide_name(i, name);
    v[i].hash = spot__ns_hash(name);
    v[i].n = i;
  }
  qsort(v, N, sizeof *v, by_hash);
  uint32_t same[3] = {0, 0, 0}, pair_hash = 0;
  int found = 0;
  for (uint32_t i = 0; i + 1 < N && !found; i++)
    if (v[i].hash == v[i + 1].hash) {
      same[0] = v[i].n, same[1] = v[i + 1].n, pair_hash = v[i].hash;
      found = 1;
    }
  /* and a third name whose hash differs but falls in the same slot of every table up to 256 slots */
  for (uint32_t i = 0; i < N && found == 1; i++)
    if (v[i].hash != pair_hash && (v[i].hash & 255u) == (pair_hash & 255u))
      same[2] = v[i].n, found = 2;
  free(v);
  CHECK_EQ(found, 2);
  char a[32], b[32], c[32];
  collide_name(same[0], a);
  collide_name(same[1], b);
  collide_name(same[2], c);
  CHECK(strcmp(a, b) != 0);
  CHECK_EQ(spot__ns_hash(a), spot__ns_hash(b));
  CHECK_EQ(spot__ns_hash(a), pair_hash);
  CHECK_EQ(spot__ns_hash(c) & 255u, pair_hash & 255u);
  spot_io_t *io;
  spot_ns_t *ns;
  CHECK_OK(open_ns("ns-collide", &io, &ns));
  CHECK_OK(make_log(ns, a, 1));
  spot_log_t *la, *lb, *lc;
  CHECK_RC(spot__ns_log(ns, b, &lb), SPOT_ENOTFOUND); /* a's slot holds the same hash: the names still differ */
  CHECK_OK(make_log(ns, b, 2));
  CHECK_OK(spot__ns_log(ns, a, &la));
  CHECK_OK(spot__ns_log(ns, b, &lb));
  CHECK(la != lb);
  CHECK_EQ(value_of(la), 1);
  CHECK_EQ(value_of(lb), 2);
  CHECK_RC(spot__ns_log(ns, c, &lc), SPOT_ENOTFOUND);
  CHECK_OK(make_log(ns, c, 3));
  CHECK_OK(spot__ns_log(ns, c, &lc));
  CHECK_EQ(value_of(lc), 3);
  /* grow the table past the colliding entries: they are copied and still found */
  char name2[32];
  for (int i = 0; i < 100; i++) {
    snprintf(name2, sizeof name2, "g%d", i);
    CHECK_OK(make_log(ns, name2, 100u + (unsigned)i));
  }
  spot_log_t *l;
  CHECK_OK(spot__ns_log(ns, a, &l));
  CHECK(l == la);
  CHECK_OK(spot__ns_log(ns, b, &l));
  CHECK(l == lb);
  CHECK_OK(spot__ns_log(ns, c, &l));
  CHECK(l == lc);
  spot_ns_close(ns);
  spot_io_mem_free(io);
}

/* ---- readers on other threads while logs are added ---- */

#define READERS 3
#define ADDED 300

static struct {
  spot_ns_t *ns;
  spot_log_t *handle[ADDED];
  int made; /* logs 0..made-1 exist and handle[] holds theirs (atomic) */
  int stop;
  int wrong[READERS];
} race;

static void *reader(void *arg) {
  int k = (int)(intptr_t)arg;
  char name[32];
  unsigned x = (unsigned)k * 7919u + 1;
  while (!__atomic_load_n(&race.stop, __ATOMIC_ACQUIRE)) {
    int made = __atomic_load_n(&race.made, __ATOMIC_ACQUIRE);
    if (made == 0)
      continue;
    x = x * 1103515245u + 12345u;
    int i = (int)(x % (unsigned)made);
    snprintf(name, sizeof name, "r%d", i);
    spot_log_t *l;
    if (spot__ns_log(race.ns, name, &l) != 0 || l != race.handle[i] || value_of(l) != (uint64_t)i)
      race.wrong[k]++;
  }
  return NULL;
}

static void test_readers_while_adding(void) {
  spot_io_t *io;
  CHECK_OK(open_ns("ns-race", &io, &race.ns));
  pthread_t t[READERS];
  for (int k = 0; k < READERS; k++)
    CHECK(pthread_create(&t[k], NULL, reader, (void *)(intptr_t)k) == 0);
  char name[32];
  int rc = 0;
  for (int i = 0; i < ADDED && rc == 0; i++) {
    snprintf(name, sizeof name, "r%d", i);
    if ((rc = make_log(race.ns, name, (uint64_t)i)) == 0)
      rc = spot__ns_log(race.ns, name, &race.handle[i]);
    __atomic_store_n(&race.made, i + 1, __ATOMIC_RELEASE);
  }
  __atomic_store_n(&race.stop, 1, __ATOMIC_RELEASE);
  for (int k = 0; k < READERS; k++)
    pthread_join(t[k], NULL);
  CHECK_OK(rc);
  for (int k = 0; k < READERS; k++)
    CHECK_EQ(race.wrong[k], 0);
  spot_ns_close(race.ns);
  spot_io_mem_free(io);
}

static const spot_test_t tests[] = {{"every_name_after_many_creates", test_every_name_after_many_creates},
                                    {"hash_collisions", test_hash_collisions},
                                    {"readers_while_adding", test_readers_while_adding},
                                    {NULL, NULL}};
SPOT_TEST_MAIN(tests)
