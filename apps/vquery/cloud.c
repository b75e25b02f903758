/*
 * apps/vquery/cloud.c: the cloud tier's rules, shared by the handler object (handlers/cloud.c) and the driver: the
 * default cloud configuration (MODEL.md section 8) and one interval's autoscaler decision and billing (MODEL.md
 * section 4: the model's meter b_t S + b_i (theta - S)+ + b_a (S - theta)+, and instance-seconds at a price per
 * instance-hour as a cloud bill would read).
 */
#include <string.h>

#include <spot/model.h>

#include "vquery.h"

void vq_cloud_config_default(vq_cloud_config_t *cfg) {
  spot_rates_t r;
  spot_rates_default(&r);
  memset(cfg, 0, sizeof *cfg);
  cfg->version = VQ_REC_VERSION;
  cfg->idle_instances = 3;
  cfg->active_instances = 30;
  cfg->top_k = 1;
  cfg->match_batch = 64;
  cfg->interval_ms = 1000;
  cfg->theta = 0;
  cfg->b_t = r.b_t;
  cfg->b_i = r.b_i;
  cfg->b_a = r.b_a;
  cfg->usd_per_instance_hour = 0.01;
}

void vq_billing_interval(const vq_cloud_config_t *cfg, uint64_t interval, double volume_bits, uint32_t queries,
                         uint32_t instances, vq_billing_rec_t *out) {
  double s = volume_bits, theta = cfg->theta;
  vq_billing_rec_t b;
  memset(&b, 0, sizeof b);
  b.version = VQ_REC_VERSION;
  b.instances = instances;
  b.interval = interval;
  b.volume_bits = s;
  b.theta = theta;
  b.model_usd = cfg->b_t * s + cfg->b_i * (theta > s ? theta - s : 0) + cfg->b_a * (s > theta ? s - theta : 0);
  b.instance_usd = (double)instances * ((double)cfg->interval_ms / 1000.0) * cfg->usd_per_instance_hour / 3600.0;
  b.queries = queries;
  b.next_instances = s >= theta ? cfg->active_instances : cfg->idle_instances;
  *out = b;
}
