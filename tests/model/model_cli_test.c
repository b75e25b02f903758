/*
 * model_cli_test.c: `spot plan` as a user runs it ($SPOT_BIN): every verb's --json keys and values against the
 * library, --params files, montecarlo, --plot (when gnuplot is installed), and the one-sentence errors naming the
 * bound crossed, with exit status 1.
 */
#include <stdlib.h>

#include "model_check.h"
#include "support.h"

static char out[65536], err[4096];

static int plan(const char *args) {
  return spot_test_sh(out, sizeof out, err, sizeof err, "%s plan %s", spot_test_bin(), args);
}

/* The number after "key": in the JSON line, NAN if absent. */
static double json_num(const char *key) {
  char pat[128];
  snprintf(pat, sizeof pat, "\"%s\":", key);
  const char *at = strstr(out, pat);
  return at ? strtod(at + strlen(pat), NULL) : NAN;
}

#define CHECK_KEYS(...)                                                                                         \
  do {                                                                                                          \
    const char *keys_[] = {__VA_ARGS__, NULL};                                                                  \
    for (const char **k_ = keys_; *k_; k_++)                                                                    \
      if (isnan(json_num(*k_))) {                                                                               \
        fprintf(stderr, "  %s:%d: key %s missing from %s\n", __FILE__, __LINE__, *k_, out);                    \
        spot_test_failed_ = 1;                                                                                  \
        return;                                                                                                 \
      }                                                                                                         \
  } while (0)

static void test_energy(void) {
  CHECK_EQ(plan("energy --dist uniform --mu 8192 --rho 5000 --json"), 0);
  CHECK_KEYS("volume_bits", "threshold_bits", "energy_j", "variability_j2", "eps_a_j_per_bit", "eps_i_j_per_bit");
  CHECK(strstr(out, "\"dist\":\"uniform\"") != NULL);
  CHECK_NEAR(json_num("energy_j"), 2.5e-4 * 8192 + 1e-4 * 5000.0 * 5000 / (4 * 8192), 1e-14);
  CHECK_EQ(plan("energy --dist uniform --mu 8192 --rho 5000"), 0);
  CHECK(strstr(out, "mean energy per T") != NULL && strstr(out, "one-sided variability") != NULL);
}

static void test_threshold_volume(void) {
  CHECK_EQ(plan("threshold --dist exponential --mu 8192 --energy 2.5 --json"), 0);
  CHECK_KEYS("threshold_bits", "energy_j", "variability_j2", "volume_bits", "energy_target_j");
  double rho = json_num("threshold_bits");
  spot_rates_t r;
  spot_rates_default(&r);
  spot_dist_t d;
  double e;
  CHECK_MOK(spot_dist_init(&d, SPOT_DIST_EXPONENTIAL, 8192, 0));
  CHECK_MOK(spot_energy_mean(&d, &r, rho, &e));
  CHECK_NEAR(e, 2.5, 1e-12);
  CHECK_EQ(plan("volume --dist pareto --alpha 3 --rho 12000 --energy 3 --json"), 0);
  CHECK_KEYS("volume_bits", "energy_j", "threshold_bits");
  CHECK_NEAR(json_num("energy_j"), 3, 1e-12);
  CHECK_EQ(plan("threshold --dist uniform --energy 3 --vcap 1 --json"), 0);
  CHECK_NEAR(json_num("variability_j2"), 1, 1e-9);
  CHECK_NEAR(json_num("energy_j"), 3, 1e-12);
}

static void test_billing_quota(void) {
  CHECK_EQ(plan("billing --dist exponential --devices 40 --mu 8192 --quota 400000 --json"), 0);
  CHECK_KEYS("billing_usd", "quota_bits", "n_devices", "billing_min_usd", "billing_adhoc_usd", "saving_fraction");
  CHECK_EQ(plan("quota --dist exponential --devices 40 --mu 8192 --json"), 0);
  CHECK_KEYS("quota_bits", "billing_min_usd", "billing_adhoc_usd", "saving_fraction", "b_i_usd_per_bit");
  CHECK_NEAR(json_num("quota_bits"), 40 * 8192 * log(11.0), 1e-12);
  double shaped = json_num("quota_bits");
  CHECK_EQ(plan("quota --dist exponential --devices 40 --mu 8192 --aggregate convolution --json"), 0);
  CHECK(fabs(json_num("quota_bits") / (40 * 8192) - 1.22) < 0.01); /* MODEL.md section 5 */
  CHECK(json_num("quota_bits") < shaped);
  CHECK_EQ(plan("quota --dist pareto --alpha 3 --devices 40 --mu 8192 --aggregate convolution --grid 1024 --json"), 0);
  CHECK_KEYS("quota_bits", "billing_min_usd", "saving_fraction");
}

static void test_devices_design(void) {
  CHECK_EQ(plan("devices --dist uniform --mu 8192 --billing 1e-4 --json"), 0);
  CHECK_KEYS("devices", "devices_real", "billing_target_usd", "billing_min_usd", "quota_bits");
  CHECK(json_num("devices") == floor(json_num("devices_real")));
  CHECK(json_num("billing_min_usd") <= 1e-4);
  CHECK_EQ(plan("design --dist exponential --devices 40 --mu 8192 --energy 2.5 --json"), 0);
  CHECK_KEYS("threshold_bits", "energy_j", "variability_j2", "quota_bits", "billing_min_usd", "billing_adhoc_usd",
             "saving_fraction", "devices", "volume_bits", "n_devices");
  CHECK_EQ(plan("design --dist exponential --devices 40 --mu 8192 --energy 2.5"), 0);
  CHECK(strstr(out, "threshold rho") && strstr(out, "minimum billing") && strstr(out, "saving against") &&
        strstr(out, "devices per aggregator for the target"));
  CHECK_EQ(plan("design --dist uniform --devices 40 --rho 9000 --energy 2.5 --billing 1e-4 --json"), 0);
  CHECK_KEYS("volume_bits", "devices", "billing_target_usd");
}

static void test_params(void) {
  const char *dir = spot_test_dir("plan");
  char cmd[4400];
  snprintf(cmd, sizeof cmd, "quota --params %s/p.conf --alpha 4", dir);
  char path[4200];
  snprintf(path, sizeof path, "%s/p.conf", dir);
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  fputs("# planner inputs\ndist = pareto\nalpha=3\ndevices=40\nmu=8192\nb_t = 0\njson\n", f);
  fclose(f);
  CHECK_EQ(plan(cmd), 0);
  CHECK(json_num("alpha") == 4); /* the command line wins */
  CHECK(json_num("b_t_usd_per_bit") == 0);
  f = fopen(path, "w");
  fputs("colour=blue\n", f);
  fclose(f);
  CHECK_EQ(plan(cmd), 1);
  CHECK(strstr(err, "unknown key 'colour'") != NULL);
}

static void test_montecarlo(void) {
  CHECK_EQ(plan("montecarlo design --dist uniform --devices 20 --mu 8192 --energy 2.5 --samples 100000 --json"), 0);
  CHECK(strstr(out, "\"montecarlo_rows\":[{\"figure\":\"energy_j\"") != NULL);
  CHECK(strstr(out, "\"figure\":\"billing_min_usd\"") != NULL);
  CHECK_EQ(plan("montecarlo energy --dist pareto --alpha 3 --mu 8192 --rho 9000 --samples 10000 --sampler reject"),
           0);
  CHECK(strstr(out, "std. error") != NULL && strstr(out, "fourth moment is infinite") != NULL);
}

static void test_plot(void) {
  if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
    printf("  (gnuplot not installed: --plot's message checked only)\n");
    CHECK_EQ(plan("quota --dist uniform --devices 4 --mu 8192 --plot /tmp/x.svg"), 1);
    CHECK(strstr(err, "gnuplot") != NULL);
    return;
  }
  const char *dir = spot_test_dir("plot");
  char cmd[4400], path[4200];
  snprintf(path, sizeof path, "%s/design.svg", dir);
  snprintf(cmd, sizeof cmd, "montecarlo design --dist exponential --devices 40 --mu 8192 --energy 2.5 "
                            "--samples 24000 --plot %s",
           path);
  CHECK_EQ(plan(cmd), 0);
  FILE *f = fopen(path, "r");
  CHECK(f != NULL);
  char head[256] = "";
  size_t n = fread(head, 1, sizeof head - 1, f);
  fclose(f);
  head[n] = '\0';
  CHECK(strstr(head, "<svg") != NULL || strstr(head, "<?xml") != NULL);
  CHECK_EQ(plan("quota --dist uniform --devices 4 --mu 8192 --plot /tmp/x.pdf"), 1);
  CHECK(strstr(err, ".svg or .png") != NULL);
}

/* Every invalid input: exit status 1 and one line with the sentence naming the bound. */
static void test_errors(void) {
  static const struct {
    const char *args, *sentence;
  } cases[] = {
      {"quota --dist pareto --alpha 1 --devices 40 --mu 8192", "alpha must be greater than 1"},
      {"energy --dist pareto --alpha 1.8 --mu 8192 --rho 9000", "alpha must be greater than 2 for the variability"},
      {"threshold --dist uniform --mu 8192 --energy 1", "energy does not suffice for mu bits"},
      {"volume --dist uniform --rho 30000 --energy 2", "must exceed eps_i*rho"},
      {"devices --dist uniform --mu 8192 --billing -1", "billing target must be positive"},
      {"devices --dist uniform --mu 8192 --billing 1e-12", "below the minimum billing of a single device"},
      {"quota --dist uniform --devices 40 --mu 8192 --b-i 0", "b_i must be positive"},
      {"quota --dist uniform --devices 40 --mu 8192 --b-a -1", "b_a must be positive"},
      {"quota --dist uniform --devices 40 --mu 8192 --b-t -1", "b_t must be non-negative"},
      {"energy --dist uniform --mu 8192 --rho 9000 --eps-a -1", "eps_a must be positive"},
      {"energy --dist uniform --mu 8192 --rho 9000 --eps-i 0", "eps_i must be positive"},
      {"energy --dist uniform --mu -5 --rho 9000", "mu must be positive"},
      {"energy --dist uniform --mu 8192 --rho -1", "rho must be non-negative"},
      {"billing --dist uniform --devices 0.5 --mu 8192 --quota 10", "N must be at least 1"},
      {"billing --dist uniform --devices 4 --mu 8192 --quota -10", "quota theta must be non-negative"},
      {"threshold --dist exponential --energy 3 --vcap 100", "variability cap must lie between"},
      {"energy --dist gauss --mu 5 --rho 9000", "unknown distribution"},
      {"energy --dist uniform --mu 8192", "needs --rho"},
      {"quota --dist pareto --devices 4 --mu 8192", "needs --alpha"},
      {"energy --dist uniform --mu abc --rho 1", "needs a number"},
      {"montecarlo energy --dist uniform --mu 8192 --rho 1 --samples 1", "sample count must be at least 2"},
      /* defect 10: overflow is an error naming what overflowed, never inf, null or a wrong 0 */
      {"energy --dist uniform --mu 1e308 --rho 1e308", "the uniform law's upper end 2 mu overflows"},
      {"energy --dist uniform --mu 1e200 --rho 1e200", "one-sided variability V+ overflows"},
      {"threshold --dist uniform --mu 1 --energy 1e308", "threshold rho overflows"},
      {"volume --dist uniform --rho 0 --energy 1e308 --eps-a 1e-10", "mean volume per device mu overflows"},
      {"quota --dist uniform --devices 1e300 --mu 1e10", "the aggregate's mean N mu overflows"},
      {"billing --dist uniform --devices 4 --mu 8192 --quota 10 --b-i 1e308 --b-a 1e308", "minimum billing B* overflows"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int rc = plan(cases[i].args);
    if (rc != 1 || strstr(err, cases[i].sentence) == NULL || strchr(err, '\n') != err + strlen(err) - 1) {
      fprintf(stderr, "  spot plan %s: exit %d, stderr '%s' (wanted '%s')\n", cases[i].args, rc, err,
              cases[i].sentence);
      spot_test_failed_ = 1;
      return;
    }
  }
  CHECK_EQ(plan("energy --dist pareto --alpha 1.8 --mu 8192 --rho 9000 --variability none --json"), 0);
  CHECK_KEYS("energy_j");
  /* an error blames only what overflowed, not an input that was not given */
  CHECK_EQ(plan("threshold --dist uniform --mu 1 --energy 1e308"), 1);
  CHECK(strstr(err, "rho must be non-negative") == NULL);
  /* large but representable results are printed, with no null in the JSON */
  CHECK_EQ(plan("energy --dist uniform --mu 1e200 --rho 1e200 --variability none --json"), 0);
  CHECK(strstr(out, "null") == NULL);
  CHECK_NEAR(json_num("energy_j"), 2.75e196, 1e-14);
  CHECK_NEAR(json_num("denergy_drho_j_per_bit"), 1e-4 * 0.5, 1e-14);
  /* defect 10: the Pareto volume near e = eps_i rho, through the command line, to 1e-12 */
  CHECK_EQ(plan("volume --dist pareto --alpha 1.001 --rho 245760 --energy 61.440000000061445 --eps-a 0.0001 "
                "--eps-i 0.00025 --variability none --json"), 0);
  CHECK_NEAR(json_num("volume_bits"), 6.7141974559060785e-07, 1e-12);
  CHECK_EQ(plan("--help"), 0);
  CHECK(strstr(out, "montecarlo VERB") != NULL);
}

static const spot_test_t tests[] = {{"energy", test_energy},
                                    {"threshold_volume", test_threshold_volume},
                                    {"billing_quota", test_billing_quota},
                                    {"devices_design", test_devices_design},
                                    {"params", test_params},
                                    {"montecarlo", test_montecarlo},
                                    {"plot", test_plot},
                                    {"errors", test_errors},
                                    {NULL, NULL}};
SPOT_TEST_MAIN(tests)
