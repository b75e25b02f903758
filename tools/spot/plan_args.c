/*
 * plan_args.c: the flags of `spot plan` and its --params FILE (key=value lines, '#' comments, the flag's name
 * without dashes as key, '-' and '_' alike; a bare flag name such as `json` sets it). The file is read first so
 * that the command line wins.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "plan.h"

enum { O_NUM, O_DIST, O_READING, O_AGG, O_FLAG, O_STR, O_U64, O_SAMPLER, O_PARAMS };

typedef struct option {
  const char *name;
  int type;
  int field; /* PF_* for O_NUM, else -1 */
} option_t;

static const option_t options[] = {
    {"dist", O_DIST, -1},           {"alpha", O_NUM, PF_ALPHA},        {"mu", O_NUM, PF_VOLUME},
    {"rho", O_NUM, PF_THRESHOLD},   {"energy", O_NUM, PF_ENERGY_TARGET}, {"vcap", O_NUM, PF_VCAP},
    {"quota", O_NUM, PF_QUOTA},     {"devices", O_NUM, PF_N_DEVICES},  {"billing", O_NUM, PF_BILLING_TARGET},
    {"eps-a", O_NUM, PF_EPS_A},     {"eps-i", O_NUM, PF_EPS_I},        {"b-i", O_NUM, PF_B_I},
    {"b-a", O_NUM, PF_B_A},         {"b-t", O_NUM, PF_B_T},            {"variability", O_READING, -1},
    {"aggregate", O_AGG, -1},       {"json", O_FLAG, -1},              {"plot", O_STR, -1},
    {"samples", O_U64, -1},         {"seed", O_U64, -1},               {"sampler", O_SAMPLER, -1},
    {"grid", O_U64, -1},            {"params", O_PARAMS, -1},
};

static char plot_path[4096];

static const option_t *find_option(const char *key) {
  char norm[64];
  size_t i = 0;
  while (*key == '-')
    key++;
  for (; key[i] && i < sizeof norm - 1; i++)
    norm[i] = key[i] == '_' ? '-' : (char)tolower((unsigned char)key[i]);
  norm[i] = '\0';
  for (size_t k = 0; k < sizeof options / sizeof options[0]; k++)
    if (strcmp(norm, options[k].name) == 0)
      return &options[k];
  return NULL;
}

static int parse_double(const char *name, const char *text, double *out) {
  char *end;
  errno = 0;
  double x = strtod(text, &end);
  if (end == text || *end != '\0' || errno == ERANGE || isnan(x))
    return spot_cli_fail(0, "plan: --%s needs a number, not '%s'", name, text);
  *out = x;
  return 0;
}

static int load_params(plan_t *p, const char *path);

/* Applies one option; value is NULL for a flag. Returns 0 or the exit status 1 (after printing the error). */
static int apply(plan_t *p, const option_t *o, const char *value) {
  int rc;
  uint64_t u;
  switch (o->type) {
  case O_NUM:
    return parse_double(o->name, value, &p->in[o->field]);
  case O_DIST:
    if (spot_dist_parse(value, &p->kind) < 0)
      return spot_cli_fail(0, "plan: %s, not '%s'", spot_model_strerror(SPOT_MODEL_EDIST), value);
    return 0;
  case O_READING:
    if (strcmp(value, "v1") == 0)
      p->reading = SPOT_VAR_V1;
    else if (strcmp(value, "v2") == 0)
      p->reading = SPOT_VAR_V2;
    else if (strcmp(value, "none") == 0)
      p->reading = 0;
    else
      return spot_cli_fail(0, "plan: --variability takes v1, v2 or none, not '%s'", value);
    return 0;
  case O_AGG:
    if (strcmp(value, "shaped") == 0)
      p->conv = 0;
    else if (strcmp(value, "convolution") == 0 || strcmp(value, "conv") == 0)
      p->conv = 1;
    else
      return spot_cli_fail(0, "plan: --aggregate takes shaped or convolution, not '%s'", value);
    return 0;
  case O_SAMPLER:
    if (strcmp(value, "inverse") == 0)
      p->sampler = SPOT_SAMPLE_INVERSE;
    else if (strcmp(value, "reject") == 0 || strcmp(value, "rejection") == 0)
      p->sampler = SPOT_SAMPLE_REJECT;
    else
      return spot_cli_fail(0, "plan: --sampler takes inverse or reject, not '%s'", value);
    return 0;
  case O_FLAG:
    if (value == NULL || strcmp(value, "1") == 0 || strcmp(value, "true") == 0 || strcmp(value, "yes") == 0)
      p->json = 1;
    else
      p->json = 0;
    return 0;
  case O_STR: {
    size_t n = strlen(value);
    if (n < 5 || (strcmp(value + n - 4, ".svg") != 0 && strcmp(value + n - 4, ".png") != 0))
      return spot_cli_fail(0, "plan: --plot needs a file name ending in .svg or .png, not '%s'", value);
    snprintf(plot_path, sizeof plot_path, "%s", value);
    p->plot = plot_path;
    return 0;
  }
  case O_U64:
    if (spot_cli_parse_u64(value, 1, &u) != 0)
      return spot_cli_fail(0, "plan: --%s needs a whole number, not '%s'", o->name, value);
    if (strcmp(o->name, "samples") == 0)
      p->samples = u;
    else if (strcmp(o->name, "seed") == 0)
      p->seed = u;
    else if (u < 16 || u > (1u << 20))
      return spot_cli_fail(0, "plan: --grid must lie between 16 and 1048576 cells, not %s", value);
    else
      p->grid = (size_t)u;
    return 0;
  case O_PARAMS:
    rc = load_params(p, value);
    return rc;
  }
  return 0;
}

static int load_params(plan_t *p, const char *path) {
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return spot_cli_fail(0, "plan: cannot read the params file %s: %s", path, strerror(errno));
  char line[1024];
  int lineno = 0;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    char *s = line, *hash = strchr(s, '#');
    if (hash)
      *hash = '\0';
    while (isspace((unsigned char)*s))
      s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
      s[--n] = '\0';
    if (n == 0)
      continue;
    char *eq = strchr(s, '=');
    const option_t *flag = eq == NULL ? find_option(s) : NULL;
    if (flag && flag->type == O_FLAG) { /* a bare flag name, e.g. `json` */
      p->json = 1;
      continue;
    }
    if (eq == NULL) {
      fclose(f);
      return spot_cli_fail(0, "plan: %s:%d: expected key=value", path, lineno);
    }
    *eq = '\0';
    char *key = s, *value = eq + 1;
    size_t k = strlen(key);
    while (k > 0 && isspace((unsigned char)key[k - 1]))
      key[--k] = '\0';
    while (isspace((unsigned char)*value))
      value++;
    const option_t *o = find_option(key);
    if (o == NULL || o->type == O_PARAMS) {
      fclose(f);
      return spot_cli_fail(0, "plan: %s:%d: unknown key '%s' (use a flag's name without dashes)", path, lineno, key);
    }
    if (apply(p, o, o->type == O_FLAG && *value == '\0' ? NULL : value) != 0) {
      fclose(f);
      return 1;
    }
  }
  fclose(f);
  return 0;
}

int plan_parse_args(plan_t *p, int argc, char **argv, int first) {
  /* --params first, so that the command line wins */
  for (int i = first; i < argc; i++)
    if (find_option(argv[i]) && find_option(argv[i])->type == O_PARAMS && strncmp(argv[i], "--", 2) == 0) {
      if (i + 1 >= argc)
        return spot_cli_fail(0, "plan: --params needs a FILE");
      if (load_params(p, argv[i + 1]) != 0)
        return 1;
    }
  for (int i = first; i < argc; i++) {
    const option_t *o = strncmp(argv[i], "--", 2) == 0 ? find_option(argv[i]) : NULL;
    if (o == NULL)
      return spot_cli_fail(0, "plan %s: unknown argument '%s' (run `spot plan --help`)", p->verb, argv[i]);
    if (o->type == O_FLAG) {
      p->json = 1;
      continue;
    }
    if (i + 1 >= argc)
      return spot_cli_fail(0, "plan %s: %s needs a value", p->verb, argv[i]);
    i++;
    if (o->type == O_PARAMS)
      continue;
    if (apply(p, o, argv[i]) != 0)
      return 1;
  }
  return 0;
}
