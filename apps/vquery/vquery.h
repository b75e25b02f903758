/*
 * apps/vquery/vquery.h: the media-query application's shared contract (IoTDI 2016, MODEL.md sections 1-5 and 8).
 *
 * Devices turn camera frames into compact visual queries (one VLAD descriptor of VQ_DIM floats, VQ_QUERY_BITS bits),
 * an aggregator collects its devices' queries and uploads them to the cloud once per monitoring interval, and the
 * cloud matches them against a library of photographs with autoscaled matcher handlers and puts each answer back to
 * the device that asked. Every tier is a spot node; the application uses the public API (include/spot/) only.
 *
 * This header is what the application's modules agree on:
 *   - images, descriptors, the library file and batched matching (image.c, describe.c, library.c, match.c);
 *   - the cameras and motion detection a device uses (camera.c, motion.c);
 *   - the records that travel in logs between the tiers and that the experiment reads back (the vq_*_rec_t below);
 *   - the log names of each tier's namespace.
 * Functions return 0 or a negative SPOT_E* code and leave a detail line (spot_errdetail) saying what to do.
 */
#ifndef VQUERY_H
#define VQUERY_H

#include <stddef.h>
#include <stdint.h>

#include <spot/error.h>

#define VQ_DIM 256          /* VLAD coefficients of one query: k = 4 centres x 64 PCA dimensions */
#define VQ_PCA_DIM 64       /* SIFT's 128 dimensions projected by PCA */
#define VQ_CENTRES 4        /* k-means centres of the VLAD vocabulary */
#define VQ_QUERY_BITS 8192  /* VQ_DIM x 32-bit floats: the paper's query size */
#define VQ_FRAME_W 320      /* QVGA, as the paper's boards captured */
#define VQ_FRAME_H 240
#define VQ_NAME_MAX 64      /* an image's name in a library, NUL included */

/* ---- images ---- */

/* A grayscale image, row-major, one float per pixel in [0, 255]. px is owned by the image (vq_image_free). */
typedef struct vq_image {
  int w, h;
  float *px;
} vq_image_t;

/* Decodes a JPEG, PNG, PPM or PGM file (libstb) to grayscale. SPOT_ENOTFOUND (missing file), SPOT_EINVAL (not an
 * image stb can decode), SPOT_ENOMEM; the detail line names the file. */
int vq_image_load(const char *path, vq_image_t *out);
/* A new w x h image resampled from src (bilinear). */
int vq_image_resize(const vq_image_t *src, int w, int h, vq_image_t *out);
/* A new image scaled (keeping its aspect) so that its longer side is at most max_side; a copy if it already fits. */
int vq_image_fit(const vq_image_t *src, int max_side, vq_image_t *out);
void vq_image_free(vq_image_t *img);
/* The image files of dir (names ending .jpg .jpeg .png .ppm .pgm, any case; symlinks followed), sorted by name, as
 * *n malloc'd paths "dir/name" in a malloc'd array (vq_image_list_free). SPOT_ENOTFOUND (no such directory),
 * SPOT_EEMPTY (no image in it), SPOT_ENOMEM; the detail names dir. */
int vq_image_list(const char *dir, char ***paths, size_t *n);
void vq_image_list_free(char **paths, size_t n);
/* The file name part of a path (a pointer into path). */
const char *vq_basename(const char *path);

/* ---- descriptors ---- */

/* The descriptor model: PCA (128 -> VQ_PCA_DIM) and VQ_CENTRES k-means centres, trained on images that are not in
 * the library. Plain data, so it can live inside a memory-mapped library file. */
typedef struct vq_model {
  float mean[128];
  float pca[VQ_PCA_DIM][128]; /* rows: principal directions, largest variance first */
  float centres[VQ_CENTRES][VQ_PCA_DIM];
} vq_model_t;

/* Trains a model on n image files (SIFT on each, grayscale, resized so the longer side is at most 640). */
int vq_model_train(const char *const *paths, size_t n, uint64_t seed, vq_model_t *out);

/* One query: SIFT on img, PCA, VLAD over the centres, signed square root, L2 normalisation (of each centre's block,
 * then of the whole). A frame with no SIFT
 * feature gives SPOT_EEMPTY (nothing to ask). Reentrant: any number of threads may describe with one model. */
int vq_describe(const vq_model_t *m, const vq_image_t *img, float out[VQ_DIM]);
/* The descriptor of a photograph (a library entry, or an image given to `spot vquery match`): shrunk, keeping its
 * aspect, so that its longer side is at most VQ_PHOTO_SIDE, then one VLAD over the SIFT features of that image and
 * of it at half the size (what a QVGA frame of it shows). SPOT_EEMPTY when neither has a feature. */
#define VQ_PHOTO_SIDE 640
int vq_describe_photo(const vq_model_t *m, const vq_image_t *img, float out[VQ_DIM]);

/* ---- the library file (FILE.vql) ---- */

/* A library: a model and one descriptor per photograph, named after its file. Opened read-only and memory-mapped;
 * versioned and checksummed: a damaged or foreign file is refused (SPOT_ECORRUPT, SPOT_EVERSION) naming it. */
typedef struct vq_library vq_library_t;

int vq_library_open(const char *path, vq_library_t **out);
void vq_library_close(vq_library_t *lib);
const vq_model_t *vq_library_model(const vq_library_t *lib);
size_t vq_library_count(const vq_library_t *lib);
const char *vq_library_name(const vq_library_t *lib, size_t i); /* valid until close */
/* Index of the entry named name, or -1. */
long vq_library_find(const vq_library_t *lib, const char *name);
/* The count x VQ_DIM descriptors, row-major, 64-byte aligned, inside the mapping (valid until close). */
const float *vq_library_descriptors(const vq_library_t *lib);
/* Writes a library file: the model, count names (each shorter than VQ_NAME_MAX) and count x VQ_DIM descriptors.
 * A library of VQ_IVF_MIN_ENTRIES entries or more also gets the coarse quantiser of the two-stage search
 * (match_index.h), and its entries are then stored grouped by list, not in the order given.
 * Written to a temporary file beside path, synced and renamed over path, so readers never see half a file.
 * SPOT_EINVAL (a name too long), SPOT_EIO / SPOT_ENOSPC naming the file. The caller keeps its buffers. */
int vq_library_write(const char *path, const vq_model_t *model, const char *const *names, const float *desc,
                     size_t count);

/* ---- matching ---- */

typedef struct vq_hit {
  int32_t index; /* library entry, -1 when the library has fewer than k entries */
  float score;   /* inner product of the two unit vectors: 1 is identical */
} vq_hit_t;

/* Matches nq queries (nq x VQ_DIM floats, row-major) against the library with batched sgemm (OpenBLAS), and writes
 * the k best hits of each query, best first, to hits[q * k + j]. A library with a coarse quantiser is searched in
 * two stages (match_index.h: exact scores over the lists each query probes); others exhaustively.
 * vq_match_library (match_index.h) chooses. */
int vq_match_batch(const vq_library_t *lib, const float *queries, size_t nq, size_t k, vq_hit_t *hits);
/* The same over n descriptors in memory (lib: n x VQ_DIM floats). Ties keep the lower index first. SPOT_EINVAL
 * (k == 0), SPOT_ENOMEM. OpenBLAS decides its threads (OPENBLAS_NUM_THREADS). */
int vq_match_raw(const float *lib, size_t n, const float *queries, size_t nq, size_t k, vq_hit_t *hits);

/* ---- cameras and motion ---- */

typedef struct vq_camera vq_camera_t;

/* The synthetic camera: pans slowly over one library photograph at a time (loaded from images_dir, the directory
 * the library was built from) at VQ_FRAME_W x VQ_FRAME_H, with sensor noise and objects that enter and leave at
 * random times (a Poisson process), so frame differencing has something to see. Deterministic for a seed. */
int vq_camera_synthetic(const vq_library_t *lib, const char *images_dir, uint64_t seed, vq_camera_t **out);
/* Replays the image files of dir in name order (resized to QVGA), looping. The truth of a frame is the library
 * entry of the same file name, or -1. */
int vq_camera_dir(const vq_library_t *lib, const char *dir, vq_camera_t **out);
/* The next frame (into *frame, which the camera owns until the next call) and the library index of the photograph
 * in view (-1 when unknown). */
int vq_camera_next(vq_camera_t *cam, const vq_image_t **frame, int32_t *truth);
void vq_camera_close(vq_camera_t *cam);

/* Frame differencing: 1 when cur differs from prev enough to call it motion, 0 otherwise. *score (may be NULL)
 * gets the fraction of pixels that changed. */
int vq_motion(const vq_image_t *prev, const vq_image_t *cur, double *score);
#define VQ_MOTION_PIXEL 30.0     /* grey levels: a pixel changed by more than this is a changed pixel */
#define VQ_MOTION_FRACTION 0.005 /* motion when more than this fraction of the pixels changed */

/* What the synthetic camera put in its last frame: *objects the moving objects in view (at least half of each inside
 * the frame), *partial those only partly in view, *switched 1 if the frame is the first of a new photograph (any may
 * be NULL). A directory camera reports no objects and switched = 1 for every file. For tests and reports. */
void vq_camera_info(const vq_camera_t *cam, int *objects, int *partial, int *switched);

/* ---- records in logs ---- */

#define VQ_REC_VERSION 3u /* 2: queries carry their cause; 3: tallies, batches in parts, billing by interval */
#define VQ_URL_MAX 160 /* a spot://host:port/namespace/log name, NUL included */

/* A query: an element of the device's `queries` log, the aggregator's `inbox` log and the cloud's `repository`
 * log. The answer goes to reply (the device's `answers` log) with the `vq_answer` handler. */
typedef struct vq_query_rec {
  uint32_t version;    /* VQ_REC_VERSION */
  uint32_t device;     /* device number, 0..N-1 */
  uint64_t interval;   /* monitoring interval the query was made in */
  uint64_t qid;        /* the device's own number for it: its seqno in the device's queries log */
  int64_t put_ns;      /* CLOCK_REALTIME when the device put it (latency is measured against it) */
  int32_t truth;       /* library index the camera was looking at, -1 unknown */
  uint32_t reserved;
  uint64_t cause_node;  /* set by the aggregator as it uploads: its put event of the query into `inbox` (node id, */
  uint64_t cause_event; /* event id), the cause of the upload and of the answer; (0, 0) in the device's logs */
  char reply[VQ_URL_MAX];
  float vlad[VQ_DIM];
} vq_query_rec_t;

/* An answer: an element of the device's `answers` log. */
typedef struct vq_answer_rec {
  uint32_t version;
  uint32_t device;
  uint64_t interval;
  uint64_t qid;
  int64_t put_ns;      /* copied from the query */
  int64_t answered_ns; /* CLOCK_REALTIME when the matcher put the answer */
  int32_t truth;
  int32_t match;       /* best library index */
  float score;
  uint32_t reserved;
} vq_answer_rec_t;

/* One device interval: an element of the device's `meter` log. Energy is measured, bits are what was done. */
typedef struct vq_device_rec {
  uint32_t version;
  uint32_t device;
  uint64_t interval;
  double drawn_bits;    /* r drawn from the law (controlled mode), or the motion volume (real mode) */
  uint32_t queries;     /* queries made and put: ceil(r / VQ_QUERY_BITS) in controlled mode */
  uint32_t overrun;     /* 1 if the interval's work ended after the interval did */
  double active_bits;   /* queries * VQ_QUERY_BITS */
  double idle_bits;     /* (rho - active_bits)+ bit-equivalents of idle work done */
  double active_cpu_s;  /* thread CPU time of the active work (capture, motion, SIFT, VLAD, put) */
  double idle_cpu_s;    /* thread CPU time of the idle work */
  double energy_j;      /* what the meter charged: watts * cpu, or RAPL */
  uint32_t frames;      /* frames captured */
  uint32_t motion_frames;
  double watch_cpu_s;   /* real mode: CPU time of frames that gave no query (capture, motion): outside the model's
                           two parts, so not in energy_j; 0 in controlled mode */
  int64_t start_ns, end_ns; /* CLOCK_REALTIME when the interval's work began and ended */
  double idle_j;        /* the idle work's part of energy_j */
  double over_j;        /* the metered energy of the active work beyond rho bits (the queries past the threshold,
                           a query that straddles it by its share above): the measured eps_a (q - rho)+ of V+ */
} vq_device_rec_t;

/* A device's calibration: an element of its `calibration` log, written before the run. */
typedef struct vq_calib_rec {
  uint32_t version;
  uint32_t device;
  double watts;
  double eps_a;          /* J/b: active energy per query bit */
  double eps_i;          /* J/b: idle energy per bit-equivalent */
  double active_cpu_s;   /* mean CPU time of one query (active frame) */
  double idle_cpu_s;     /* mean CPU time of one idle unit */
  double idle_unit_bits; /* bit-equivalents one idle unit stands for */
  uint32_t active_frames, idle_units;
  double capture_cpu_s;  /* an idle unit's two parts: capturing a frame and motion detection over it; a fraction */
  double motion_cpu_s;   /* f of a unit spends f * idle_cpu_s on them (motion over part of the rows) */
  uint32_t rapl;         /* 1 when the energy came from RAPL (package energy, whole machine) */
  uint32_t reserved;
  double active_cpu_sd_s; /* standard deviation of one query's CPU time over the calibration (content, machine) */
  double idle_cpu_sd_s;   /* the same for one idle unit */
} vq_calib_rec_t;

/* One cloud interval: an element of the cloud's `billing` log, written by vq_interval for each batch that brings
 * queries of the interval. S is the interval's volume: the bits of every query made in this interval (the query's
 * own interval number), whatever batch brought it; a batch of late queries bills its interval again, with the
 * larger S. Readers keep, per interval, the record with the highest batch_seq (the last in the log on a tie). */
typedef struct vq_billing_rec {
  uint32_t version;
  uint32_t instances;    /* instances billed during this interval (set from the previous interval's main batch) */
  uint64_t interval;
  double volume_bits;    /* S: bits of the interval's queries in every batch counted (see batch_seq) */
  double theta;          /* the quota in force */
  double model_usd;      /* b_t S + b_i (theta - S)+ + b_a (S - theta)+ */
  double instance_usd;   /* instances * interval seconds * price per instance-hour / 3600 */
  uint32_t queries;
  uint32_t next_instances; /* what the autoscaler set for the next interval: from the main batch's volume */
  uint64_t batch_seq;    /* the newest `batches` element counted in S */
  uint32_t parts;        /* the interval's batches counted (1: the main one only) */
  uint32_t late_queries; /* queries that came in batches after the main one */
} vq_billing_rec_t;

/* An upload: an element of the cloud's `batches` log put by the aggregator with handler vq_interval: queries of one
 * interval, repository elements first..last. Part 0 is the interval's main batch (sent once every device's queries
 * for it are in, or at its deadline; the autoscaler decides from it); parts 1, 2, ... carry its queries that came
 * later. An aggregator that lost a reply may put a part twice (the same queries, another range): the cloud counts
 * each (interval, part) once. */
typedef struct vq_batch_rec {
  uint32_t version;
  uint32_t queries;
  uint64_t interval;
  uint64_t first, last; /* repository seqnos, inclusive; first > last when the part had no query */
  double volume_bits;
  uint32_t part;
  uint32_t reserved;
} vq_batch_rec_t;

/* A device's count of the queries it made in an interval: an element of the aggregator's `tallies` log, put by the
 * device's vq_tally handler from its meter record. The aggregator sends an interval's main batch once every device's
 * tally is in and its inbox holds that many of the device's queries of the interval. */
typedef struct vq_tally_rec {
  uint32_t version;
  uint32_t device;
  uint64_t interval;
  uint32_t queries;
  uint32_t reserved;
} vq_tally_rec_t;

/* The cloud's settings: the element of its `config` log that the driver puts before starting the cloud node; the
 * cloud's handlers read the latest one. */
typedef struct vq_cloud_config {
  uint32_t version;
  uint32_t idle_instances;   /* instances while the previous interval's volume S was below theta (default 3) */
  uint32_t active_instances; /* instances when S >= theta (default 30) */
  uint32_t top_k;            /* hits kept per query (the answer carries the best) */
  uint32_t match_batch;      /* queries per matcher job (one sgemm each) */
  uint32_t interval_ms;      /* T */
  uint32_t exact;            /* 1: the matchers search every entry (`run --exact`); 0: the library's default */
  uint32_t nprobe;           /* lists probed by the two-stage search (`run --nprobe`); 0: the library's default */
  uint32_t pooled;           /* 1: the matchers are a handler pool (`run --pool`): vq_interval puts each job with its
                                queries (vq_pool_job_rec_t) and no handler, and the pool members run vq_match */
  uint32_t reserved;
  double theta;              /* the quota, bits per interval */
  double b_t, b_i, b_a;      /* $/b: transfer, idle, active (MODEL.md section 4) */
  double usd_per_instance_hour;
  char library[256];         /* path of the FILE.vql the matchers load */
} vq_cloud_config_t;

/* An answer as the device received it: an element of the device's `latency` log, put by the device's vq_answer
 * handler when the cloud's answer arrives (a rerun may put the same qid twice; readers keep the first). */
typedef struct vq_latency_rec {
  uint32_t version;
  uint32_t device;
  uint64_t interval;
  uint64_t qid;
  int64_t put_ns;      /* when the device put the query */
  int64_t received_ns; /* when its answer ran vq_answer on the device */
  int32_t truth;
  int32_t match;
  float score;
  uint32_t reserved;
} vq_latency_rec_t;

/* Log names. Device: queries, answers, latency, meter, calibration. Aggregator: inbox, tallies, uploaded. Cloud:
 * repository, batches, jobs, billing, config. */
#define VQ_LOG_QUERIES "queries"
#define VQ_LOG_ANSWERS "answers"
#define VQ_LOG_LATENCY "latency"
#define VQ_LOG_METER "meter"
#define VQ_LOG_CALIB "calibration"
#define VQ_LOG_INBOX "inbox"
#define VQ_LOG_UPLOADED "uploaded"
#define VQ_LOG_TALLIES "tallies"
#define VQ_LOG_REPOSITORY "repository"
#define VQ_LOG_BATCHES "batches"
#define VQ_LOG_JOBS "jobs"
#define VQ_LOG_BILLING "billing"
#define VQ_LOG_CONFIG "config"

/* ---- the three tiers as spot nodes (tiers.c, cloud.c, device.c, aggregator.c, handlers/cloud.c) ----
 *
 * Device (`spot vquery device`, one process per device): a node in the process (threads) with the handlers
 * vq_forward (on `queries`: puts the element to the aggregator's inbox), vq_tally (on `meter`: puts a
 * vq_tally_rec_t, the interval's query count, to the aggregator's `tallies`) and vq_answer (on `answers`: puts a
 * vq_latency_rec_t to `latency`), serving its namespace so the cloud can put answers. Aggregator (`spot vquery
 * aggregator`): serves `inbox` and `tallies`; it groups the inbox's queries by their interval number, and uploads
 * interval k's main batch (part 0) once every device's tally for k is in and the inbox holds the queries it counts,
 * or at k's deadline: its queries to the cloud's `repository`, then one vq_batch_rec_t to the cloud's `batches` with
 * handler vq_interval, then a vq_upload_rec_t appended to `uploaded` (its durable record: a restarted aggregator
 * resumes from them). Queries of an interval whose main batch is gone (late: an overrun, a forward retried) go in a
 * further part of their own interval, sent with the next main batch or after the last one. A cloud that does not
 * answer makes it retry the whole part's upload.
 * Cloud (spotd in worker mode with handlers/cloud.c's object): vq_interval bills the batch's interval from every
 * part of it in `batches` and splits the batch into vq_job_rec_t jobs of match_batch queries on `jobs`; vq_match
 * matches a job with one vq_match_batch call and puts each answer to the query's reply URL with handler vq_answer.
 *
 * Reruns: a handler that a crash interrupted runs again at the node's restart, and an aggregator that lost a reply
 * uploads its part again, so `billing` may hold several records of one interval (readers keep the one with the
 * highest batch_seq) and a device may get two answers to one query (readers keep the FIRST latency record per qid).
 * The repository may hold duplicates; it has one writer, its aggregator (batches name contiguous seqno ranges). */

#define VQ_H_FORWARD "vq_forward"   /* device, on `queries` */
#define VQ_H_ANSWER "vq_answer"     /* device, on `answers` */
#define VQ_H_TALLY "vq_tally"       /* device, on `meter` */
#define VQ_H_INTERVAL "vq_interval" /* cloud, on `batches` */
#define VQ_H_MATCH "vq_match"       /* cloud, on `jobs` */

/* A matcher job: an element of the cloud's `jobs` log, repository elements first..last (inclusive). */
typedef struct vq_job_rec {
  uint32_t version;
  uint32_t queries;
  uint64_t interval;
  uint64_t first, last;
} vq_job_rec_t;

/* A job with its queries: the element of a pooled cloud's `jobs` log (vq_cloud_config_t.pooled). The cloud's spotd
 * feeds each such put to the JetStream work queue (spotd --pool ... --pool-log jobs:vq_match --pool-role feed), and
 * a pool member (vq_pool_member_setup), which has no copy of the cloud's repository, matches the queries the element
 * carries: job.queries of them, in repository order from job.first. */
#define VQ_POOL_JOB_MAX 64u /* the most queries a pooled job carries (match_batch must not exceed it) */
typedef struct vq_pool_job_rec {
  vq_job_rec_t job;
  vq_query_rec_t queries[VQ_POOL_JOB_MAX];
} vq_pool_job_rec_t;

/* An upload: an element of the aggregator's `uploaded` log, appended (synchronously) after a part of interval's
 * queries was taken by the cloud. inbox_last: every inbox element of this interval up to it is uploaded (the
 * records together say which elements are: a restarted aggregator resumes from them). */
typedef struct vq_upload_rec {
  uint32_t version;
  uint32_t queries;
  uint64_t interval;
  uint64_t inbox_last;
  uint64_t first, last; /* the repository range of the batch (first > last: none) */
  uint64_t batch_seq;   /* the batch's seqno in the cloud's `batches` */
  int64_t uploaded_ns;  /* CLOCK_REALTIME when the batch was taken */
  uint32_t attempts;    /* uploads tried for this part (1: no retry) */
  uint32_t part;        /* 0: the interval's main batch; 1, 2, ...: its late queries */
} vq_upload_rec_t;

/* The cloud's defaults: MODEL.md section 8 (3 and 30 instances at 0.01 $/h, the rates of spot_rates_default),
 * top_k 1, match_batch 64, interval_ms 1000, theta 0 and no library: the caller sets theta and library. */
void vq_cloud_config_default(vq_cloud_config_t *cfg);

/* The autoscaler and the two billing meters for one interval (what vq_interval writes): S = volume_bits,
 * instances = those in force (set from the previous interval), next_instances = S >= theta ? active : idle. */
void vq_billing_interval(const vq_cloud_config_t *cfg, uint64_t interval, double volume_bits, uint32_t queries,
                         uint32_t instances, vq_billing_rec_t *out);

/* Namespace set-up, idempotent (logs that exist are kept as they are; sizes below are the defaults):
 * vq_device_setup: queries, answers, latency (4096 each), meter (4096), calibration (64); registers the built-in
 *   handlers vq_forward, vq_tally and vq_answer.
 * vq_aggregator_setup: inbox and tallies (8192, group commit) and uploaded (4096, synchronous).
 * vq_cloud_setup: repository (16384, group commit), batches, jobs, billing, config; puts *cfg to config (when it
 *   differs from the latest one); copies handler_so (vquery_cloud.so) into DIR/.spot/handlers and registers
 *   vq_interval and vq_match from it.
 *   With cfg->pooled, jobs holds vq_pool_job_rec_t elements (history 1024) and match_batch is at most
 *   VQ_POOL_JOB_MAX.
 * vq_pool_member_setup: a pool member of a pooled cloud: jobs (as the cloud's) and config (puts *cfg), and vq_match
 *   registered from a copy of handler_so; it needs no other log (the jobs carry their queries).
 * Each makes dir a namespace if it is not one. Errors: those of spot_ns_* and spot_log_*, SPOT_EIO or
 * SPOT_ENOTFOUND for the handler object; the detail line is vq_tiers_detail(). */
int vq_device_setup(const char *dir);
int vq_aggregator_setup(const char *dir);
int vq_cloud_setup(const char *dir, const vq_cloud_config_t *cfg, const char *handler_so);
int vq_pool_member_setup(const char *dir, const vq_cloud_config_t *cfg, const char *handler_so);

/* The detail line of the last failing vq_*_setup on this thread ("" if none): spot's own (spot_errdetail) when a
 * spot call failed, else what the application found. Valid until the next failing call on the thread (unlike
 * spot_errdetail, which also says it until the next spot call). */
const char *vq_tiers_detail(void);

#endif
