/*
 * apps/vquery/run_setup.c: the preparation of `spot vquery run` (run.h): a scratch directory with the library (built
 * from the photographs that scripts/vquery-data.sh lays out, unless one is given), a key pair per node and one for
 * the operator, the namespaces set up by the tiers, the access files (the aggregator's inbox takes puts from the
 * devices' keys; the cloud takes puts and gets from the aggregator; each device takes puts, the answers, from the
 * cloud, or from the pool members' key with --pool; the operator's key may get everywhere, for `spot trace`) and a
 * known_nodes file naming every node's key.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run.h"
#include "tiers.h"
#include "vquery.h"

static int exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

static int keygen(vq_run_t *r, const char *name) {
  char log[PATH];
  snprintf(log, sizeof log, "%s/keygen.log", r->scratch);
  char *argv[] = {r->spot, "keygen", (char *)name, "--dir", r->keys, NULL};
  if (vq_proc_run(argv, log, NULL) != 0)
    return vq_run_fail("cannot make the key pair %s with %s keygen (see %s)", name, r->spot, log);
  return 0;
}

static int prepare_library(vq_run_t *r) {
  if (r->library) {
    if (r->images == NULL)
      return vq_run_fail("--library needs --images DIR, the photographs it was built from (the synthetic camera pans "
                  "over them)");
    snprintf(r->lib, sizeof r->lib, "%s", r->library);
    snprintf(r->imgs, sizeof r->imgs, "%s", r->images);
    return 0;
  }
  if (r->data == NULL)
    return vq_run_fail("give --data DIR (made by `scripts/vquery-data.sh DIR`) or --library FILE.vql --images DIR");
  char train[PATH], log[PATH];
  snprintf(train, sizeof train, "%s/train", r->data);
  snprintf(r->imgs, sizeof r->imgs, "%s/library", r->data);
  if (!exists(train) || !exists(r->imgs))
    return vq_run_fail("%s has no train/ and library/ folders: lay them out with `scripts/vquery-data.sh %s`", r->data,
                r->data);
  snprintf(r->lib, sizeof r->lib, "%s/library.vql", r->scratch);
  snprintf(log, sizeof log, "%s/library.log", r->scratch);
  if (!r->quiet)
    fprintf(stderr, "building the library from %s (training on %s) ...\n", r->imgs, train);
  char seed[32];
  snprintf(seed, sizeof seed, "%lld", (long long)r->seed);
  char *argv[] = {r->self, "library", "build", "--train", train, "--images", r->imgs, "--out", r->lib,
                  "--seed", seed, NULL};
  if (vq_proc_run(argv, log, NULL) != 0) {
    vq_proc_t fake = {0};
    snprintf(fake.name, sizeof fake.name, "library build");
    snprintf(fake.log, sizeof fake.log, "%s", log);
    vq_proc_tail(&fake, 5);
    return vq_run_fail("building the library failed (see %s)", log);
  }
  return 0;
}

/* Access files and known_nodes. */
static int prepare_access(vq_run_t *r) {
  char op[64], cloud[64], edge[64], dev[64], path[PATH];
  size_t cap = 256 + 128 * (size_t)r->devices;
  char *text = malloc(cap), *known = malloc(cap);
  int rc = 1;
  if (text == NULL || known == NULL)
    goto done;
  if (vq_read_pub(r->keys, "operator", op, sizeof op) < 0 || vq_read_pub(r->keys, "cloud", cloud, sizeof cloud) < 0 ||
      vq_read_pub(r->keys, "aggregator", edge, sizeof edge) < 0) {
    vq_run_fail("cannot read the public keys in %s", r->keys);
    goto done;
  }
  /* the cloud: the aggregator puts (and gets); the operator reads (trace) */
  snprintf(text, cap, "%s put,get # the aggregator\n%s get # the operator (spot trace)\n", edge, op);
  snprintf(path, sizeof path, "%s/access", r->cloud_dir);
  if (vq_write_file(path, text) < 0)
    goto werr;
  /* the aggregator: the devices put to its inbox */
  int n = snprintf(text, cap, "%s get # the operator (spot trace)\n", op);
  int k = snprintf(known, cap, "127.0.0.1:%d %s\n127.0.0.1:%d %s\n", r->cloud_port, cloud, r->edge_port, edge);
  for (int64_t i = 0; i < r->devices; i++) {
    char name[32];
    snprintf(name, sizeof name, "dev%lld", (long long)i);
    if (vq_read_pub(r->keys, name, dev, sizeof dev) < 0) {
      vq_run_fail("cannot read %s/%s.pub", r->keys, name);
      goto done;
    }
    n += snprintf(text + n, cap - (size_t)n, "%s put # device %lld\n", dev, (long long)i);
    k += snprintf(known + k, cap - (size_t)k, "127.0.0.1:%d %s\n", r->dev_port[i], dev);
  }
  snprintf(path, sizeof path, "%s/access", r->edge_dir);
  if (vq_write_file(path, text) < 0)
    goto werr;
  if (vq_write_file(r->known, known) < 0) {
    snprintf(path, sizeof path, "%s", r->known);
    goto werr;
  }
  /* each device: the cloud puts the answers (or, with --pool, the pool members, who share one key) */
  n = snprintf(text, cap, "%s put # the cloud (answers)\n%s get # the operator (spot trace)\n", cloud, op);
  if (r->pool) {
    char member[64];
    if (vq_read_pub(r->keys, "member", member, sizeof member) < 0) {
      vq_run_fail("cannot read %s/member.pub", r->keys);
      goto done;
    }
    snprintf(text + n, cap - (size_t)n, "%s put # the pool members (answers)\n", member);
  }
  for (int64_t i = 0; i < r->devices; i++) {
    snprintf(path, sizeof path, "%s/access", r->dev_dir[i]);
    if (vq_write_file(path, text) < 0)
      goto werr;
  }
  rc = 0;
  goto done;
werr:
  vq_run_fail("cannot write %s", path);
done:
  free(text);
  free(known);
  return rc;
}

int vq_run_prepare(vq_run_t *r) {
  if (r->keep) {
    if (strlen(r->keep) >= DIRMAX - 64)
      return vq_run_fail("--keep: the directory's name is too long (at most %d bytes)", DIRMAX - 64);
    snprintf(r->scratch, sizeof r->scratch, "%s", r->keep);
    if (mkdir(r->scratch, 0755) != 0 && errno != EEXIST)
      return vq_run_fail("cannot make the directory %s: %s", r->scratch, strerror(errno));
  } else {
    snprintf(r->scratch, sizeof r->scratch, "/tmp/spot-vqrun-XXXXXX");
    if (mkdtemp(r->scratch) == NULL)
      return vq_run_fail("cannot make a scratch directory in /tmp: %s", strerror(errno));
  }
  if (vq_self_dir(r->bindir, sizeof r->bindir) < 0)
    return vq_run_fail("cannot find this program's directory (/proc/self/exe)");
  const char *e;
  snprintf(r->self, sizeof r->self, "%s/spot-vquery", r->bindir);
  snprintf(r->spot, sizeof r->spot, "%s", (e = getenv("SPOT_BIN")) && *e ? e : "");
  if (!r->spot[0])
    snprintf(r->spot, sizeof r->spot, "%s/spot", r->bindir);
  snprintf(r->spotd, sizeof r->spotd, "%s", (e = getenv("SPOTD_BIN")) && *e ? e : "");
  if (!r->spotd[0])
    snprintf(r->spotd, sizeof r->spotd, "%s/spotd", r->bindir);
  snprintf(r->so, sizeof r->so, "%s", (e = getenv("VQ_HANDLERS")) && *e ? e : "");
  if (!r->so[0])
    snprintf(r->so, sizeof r->so, "%s/vquery_cloud.so", r->bindir);
  const char *need[] = {r->self, r->spot, r->spotd, r->so};
  for (int i = 0; i < 4; i++)
    if (access(need[i], R_OK) != 0)
      return vq_run_fail("%s is missing: build spot first (cmake --build build)", need[i]);
  int rc = prepare_library(r);
  if (rc)
    return rc;
  snprintf(r->keys, sizeof r->keys, "%s/keys", r->scratch);
  mkdir(r->keys, 0700);
  snprintf(r->cloud_dir, sizeof r->cloud_dir, "%s/cloud", r->scratch);
  snprintf(r->edge_dir, sizeof r->edge_dir, "%s/edge", r->scratch);
  snprintf(r->known, sizeof r->known, "%s/known_nodes", r->scratch);
  snprintf(r->start_file, sizeof r->start_file, "%s/start-ns", r->scratch);
  snprintf(r->known_env, sizeof r->known_env, "SPOT_KNOWN_NODES=%s", r->known);
  if ((rc = keygen(r, "operator")) || (rc = keygen(r, "cloud")) || (rc = keygen(r, "aggregator")))
    return rc;
  snprintf(r->member_key, sizeof r->member_key, "%s/member.key", r->keys);
  if (r->pool && (rc = keygen(r, "member"))) /* one key for every pool member: the instances of one image */
    return rc;
  r->cloud_port = vq_free_port(), r->edge_port = vq_free_port();
  for (int64_t i = 0; i < r->devices; i++) {
    char name[32];
    snprintf(name, sizeof name, "dev%lld", (long long)i);
    if ((rc = keygen(r, name)))
      return rc;
    snprintf(r->dev_dir[i], sizeof r->dev_dir[i], "%s/%s", r->scratch, name);
    r->dev_port[i] = vq_free_port();
    if (r->dev_port[i] == 0)
      return vq_run_fail("no free TCP port on 127.0.0.1");
    if (vq_device_setup(r->dev_dir[i]) < 0)
      return vq_run_fail("setting up %s: %s", r->dev_dir[i], vq_tiers_detail());
  }
  if (r->cloud_port == 0 || r->edge_port == 0)
    return vq_run_fail("no free TCP port on 127.0.0.1");
  vq_cloud_config_t cfg;
  vq_cloud_config_default(&cfg);
  cfg.idle_instances = r->p.bill.idle_instances, cfg.active_instances = r->p.bill.active_instances;
  cfg.interval_ms = r->p.interval_ms;
  cfg.theta = r->p.theta;
  cfg.exact = r->exact ? 1 : 0;
  cfg.nprobe = (uint32_t)r->nprobe;
  cfg.usd_per_instance_hour = r->p.bill.usd_per_instance_hour;
  cfg.pooled = r->pool != NULL;
  if (strlen(r->lib) >= sizeof cfg.library)
    return vq_run_fail("the library's path %s is too long for the cloud's configuration (at most %zu bytes)", r->lib,
                sizeof cfg.library - 1);
  snprintf(cfg.library, sizeof cfg.library, "%s", r->lib);
  r->cloud_cfg = cfg;
  if (vq_cloud_setup(r->cloud_dir, &cfg, r->so) < 0)
    return vq_run_fail("setting up the cloud %s: %s", r->cloud_dir, vq_tiers_detail());
  if (vq_aggregator_setup(r->edge_dir) < 0)
    return vq_run_fail("setting up the aggregator %s: %s", r->edge_dir, vq_tiers_detail());
  return prepare_access(r);
}
