/*
 * apps/vquery/camera.c: the device's cameras (vquery.h, "cameras and motion").
 *
 * The synthetic camera looks at one library photograph at a time, scaled so that its QVGA view covers 80% of the
 * picture, and pans slowly across it (a quarter pixel a frame, bouncing at the edges); after a dwell of 40 to 120
 * frames it turns to another photograph. Sensor noise (Gaussian, sigma 2 grey levels) is added to every frame, and
 * textured objects (striped or checked rectangles 40-100 pixels wide) cross the view: they arrive as a Poisson
 * process (on average one every 150 frames), enter from the left or right edge and move 4-8 pixels a frame until
 * they leave. Everything is drawn from one generator seeded by the caller, so a seed replays the same film. The truth
 * of a frame is the library index of the photograph in view.
 *
 * The directory camera replays a directory's image files in name order, each resized to QVGA, looping; the truth is
 * the library entry of the same file name.
 *
 * Both cameras decode and scale every picture they can show once, when they are opened, so that a frame costs only
 * a crop, the noise and the objects: the device meters CPU time per frame, and a JPEG decode inside a frame (up to a
 * second on a loaded machine) made that frame's energy a measure of the decoder. Memory is bounded: the synthetic
 * camera keeps at most CAMERA_PHOTOS photographs (a library with more shows a subset drawn from the seed, on its own
 * generator so the film of a smaller library is the same as without the bound), about 0.5 MB each; the directory
 * camera keeps at most CAMERA_FILES files (the first ones in name order), 0.3 MB each. The decoded pictures are
 * shared by the cameras of a process (reference counted, under a mutex), and up to CACHE_IDLE of them stay decoded
 * after their last camera closed, so cameras opened together or one after another (the tests) decode each file once.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perturb.h"
#include "vquery.h"

#define MAX_OBJECTS 8
#define VIEW_FRACTION 0.8    /* of the photograph the view covers */
#define PAN_SPEED 0.25       /* pixels per frame */
#define NOISE_SIGMA 2.0      /* grey levels */
#define OBJECT_RATE (1.0 / 150) /* arrivals per frame */
#define CAMERA_PHOTOS 32     /* photographs the synthetic camera keeps decoded */
#define CAMERA_FILES 64      /* files the directory camera keeps decoded */
#define CACHE_IDLE 32        /* decoded pictures kept when no camera uses them */

typedef struct object {
  double x, y, vx, vy;
  int w, h, pattern, period;
  float a, b; /* the two grey levels of the texture */
} object_t;

struct vq_camera {
  const vq_library_t *lib;
  char *dir;
  vq_rng_t rng;
  vq_image_t frame;
  int32_t truth;
  int switched;
  /* synthetic */
  int synthetic, first;
  const vq_image_t **photos; /* every picture the camera can show, decoded and scaled at open (nphotos, shared) */
  int32_t *shows;     /* synthetic: the library index of each of photos */
  size_t nphotos;
  size_t cur;         /* synthetic: the photograph in view (index into photos) */
  double px, py, vx, vy;
  long dwell;       /* frames left on this photograph */
  double next_object; /* frames until the next arrival */
  object_t obj[MAX_OBJECTS];
  int nobj;
  /* directory */
  char **paths;
  size_t npaths, next;
};

/* The process's decoded pictures: path and kind (scaled for the pan, or QVGA) to image, reference counted. */
typedef struct shared {
  struct shared *next;
  char *path;
  int qvga, refs;
  vq_image_t img;
} shared_t;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static shared_t *cache;
static size_t cache_idle;

/* Decodes path: scaled so the view covers VIEW_FRACTION of it, or (qvga) resized to the frame. */
static int decode(const char *path, int qvga, vq_image_t *out) {
  vq_image_t full = {0};
  int rc = vq_image_load(path, &full);
  if (rc < 0)
    return rc;
  int w = VQ_FRAME_W, h = VQ_FRAME_H;
  if (!qvga) {
    double s = fmax(VQ_FRAME_W / (VIEW_FRACTION * full.w), VQ_FRAME_H / (VIEW_FRACTION * full.h));
    w = (int)ceil(full.w * s), h = (int)ceil(full.h * s);
    if (w < VQ_FRAME_W + 1)
      w = VQ_FRAME_W + 1;
    if (h < VQ_FRAME_H + 1)
      h = VQ_FRAME_H + 1;
  }
  rc = vq_image_resize(&full, w, h, out);
  vq_image_free(&full);
  return rc;
}

/* The decoded picture of path (one more reference: give it back with release), into *out; SPOT_E* from decoding. */
static int acquire(const char *path, int qvga, const vq_image_t **out) {
  int rc = 0;
  pthread_mutex_lock(&cache_lock);
  shared_t *e = cache;
  while (e && (e->qvga != qvga || strcmp(e->path, path) != 0))
    e = e->next;
  if (!e) {
    e = calloc(1, sizeof *e);
    if (!e || !(e->path = strdup(path))) {
      free(e);
      rc = spot_fail(SPOT_ENOMEM, "no memory for the camera's pictures");
      goto done;
    }
    rc = decode(path, qvga, &e->img);
    if (rc < 0) {
      free(e->path);
      free(e);
      goto done;
    }
    e->qvga = qvga;
    e->next = cache;
    cache = e;
  } else if (e->refs == 0) {
    cache_idle--;
  }
  e->refs++;
  *out = &e->img;
done:
  pthread_mutex_unlock(&cache_lock);
  return rc;
}

/* Gives back a picture from acquire; frees the oldest unused ones beyond CACHE_IDLE. */
static void release(const vq_image_t *img) {
  pthread_mutex_lock(&cache_lock);
  for (shared_t *e = cache; e; e = e->next)
    if (&e->img == img && --e->refs == 0)
      cache_idle++;
  while (cache_idle > CACHE_IDLE) {
    shared_t **pp = &cache, **last = NULL;
    for (; *pp; pp = &(*pp)->next)
      if ((*pp)->refs == 0)
        last = pp;
    shared_t *e = *last;
    *last = e->next;
    vq_image_free(&e->img);
    free(e->path);
    free(e);
    cache_idle--;
  }
  pthread_mutex_unlock(&cache_lock);
}

/* Acquires library photograph index, scaled for the pan, into *out. */
static int load_photo(const vq_camera_t *c, int32_t index, const vq_image_t **out) {
  char path[4400];
  snprintf(path, sizeof path, "%s/%s", c->dir, vq_library_name(c->lib, (size_t)index));
  int rc = acquire(path, 0, out);
  if (rc < 0) {
    char why[512];
    snprintf(why, sizeof why, "%s", spot_errdetail()); /* the detail buffer is about to be rewritten */
    return spot_fail(rc, "%s (the synthetic camera shows the library's photographs: give the directory the library "
                         "was built from)", why);
  }
  return 0;
}

/* Decodes the photographs the synthetic camera will show (all of the library's, or CAMERA_PHOTOS of them drawn
 * from seed). */
static int load_photos(vq_camera_t *c, uint64_t seed) {
  size_t n = vq_library_count(c->lib), m = n < CAMERA_PHOTOS ? n : CAMERA_PHOTOS;
  int32_t *all = malloc(n * sizeof *all);
  c->photos = calloc(m, sizeof *c->photos);
  c->shows = malloc(m * sizeof *c->shows);
  if (!all || !c->photos || !c->shows) {
    free(all);
    return spot_fail(SPOT_ENOMEM, "no memory for the camera's photographs");
  }
  for (size_t i = 0; i < n; i++)
    all[i] = (int32_t)i;
  if (m < n) { /* a partial shuffle on a generator of its own: the film's generator is untouched */
    vq_rng_t pick;
    vq_rng_seed(&pick, seed ^ 0x9e3779b97f4a7c15ull);
    for (size_t i = 0; i < m; i++) {
      size_t j = i + (size_t)(vq_rng_next(&pick) % (n - i));
      int32_t t = all[i];
      all[i] = all[j];
      all[j] = t;
    }
  }
  int rc = 0;
  for (size_t i = 0; i < m && rc == 0; i++) {
    c->shows[i] = all[i];
    rc = load_photo(c, all[i], &c->photos[i]);
    if (rc == 0)
      c->nphotos = i + 1;
  }
  free(all);
  return rc;
}

/* Turns to another of the decoded photographs (never the one in view, when there are two or more). */
static void switch_photo(vq_camera_t *c) {
  size_t n = c->nphotos;
  size_t next = (size_t)(vq_rng_next(&c->rng) % n);
  if (n > 1 && c->truth >= 0 && next == c->cur)
    next = (size_t)((next + 1 + vq_rng_next(&c->rng) % (n - 1)) % n);
  c->cur = next;
  c->truth = c->shows[next];
  const vq_image_t *p = c->photos[next];
  c->px = vq_rng_uniform(&c->rng) * (p->w - VQ_FRAME_W - 1);
  c->py = vq_rng_uniform(&c->rng) * (p->h - VQ_FRAME_H - 1);
  double a = vq_rng_uniform(&c->rng) * 2 * M_PI;
  c->vx = PAN_SPEED * cos(a);
  c->vy = PAN_SPEED * sin(a);
  c->dwell = 40 + (long)(vq_rng_next(&c->rng) % 81);
  c->switched = 1;
}

static double exp_draw(vq_rng_t *r, double rate) { return -log(1.0 - vq_rng_uniform(r)) / rate; }

static void spawn(vq_camera_t *c) {
  if (c->nobj == MAX_OBJECTS)
    return;
  object_t *o = &c->obj[c->nobj++];
  o->w = 40 + (int)(vq_rng_next(&c->rng) % 61);
  o->h = 40 + (int)(vq_rng_next(&c->rng) % 61);
  int left = vq_rng_uniform(&c->rng) < 0.5;
  double speed = 4 + 4 * vq_rng_uniform(&c->rng);
  o->x = left ? -o->w : VQ_FRAME_W;
  o->y = vq_rng_uniform(&c->rng) * (VQ_FRAME_H - o->h);
  o->vx = left ? speed : -speed;
  o->vy = (vq_rng_uniform(&c->rng) - 0.5) * 2;
  o->pattern = (int)(vq_rng_next(&c->rng) % 2);
  o->period = 4 + (int)(vq_rng_next(&c->rng) % 9);
  o->a = (float)(255 * vq_rng_uniform(&c->rng));
  o->b = fmodf(o->a + 100 + (float)(55 * vq_rng_uniform(&c->rng)), 256.0f);
}

static void draw(const object_t *o, vq_image_t *f) {
  int x0 = (int)floor(o->x), y0 = (int)floor(o->y);
  for (int y = y0 < 0 ? 0 : y0; y < y0 + o->h && y < f->h; y++)
    for (int x = x0 < 0 ? 0 : x0; x < x0 + o->w && x < f->w; x++) {
      int u = (x - x0) / o->period, v = (y - y0) / o->period, on;
      if (o->pattern == 0)
        on = u & 1; /* vertical stripes: they change under the (mostly horizontal) motion */
      else
        on = (u + v) & 1; /* checks */
      f->px[(size_t)y * f->w + x] = on ? o->a : o->b;
    }
}

/* Advances the objects one frame: moves them, drops those that left, adds the arrivals. */
static void step_objects(vq_camera_t *c) {
  int k = 0;
  for (int i = 0; i < c->nobj; i++) {
    object_t *o = &c->obj[i];
    o->x += o->vx;
    o->y += o->vy;
    if (o->x + o->w > 0 && o->x < VQ_FRAME_W && o->y + o->h > 0 && o->y < VQ_FRAME_H)
      c->obj[k++] = *o;
  }
  c->nobj = k;
  c->next_object -= 1;
  while (c->next_object <= 0) {
    spawn(c);
    c->next_object += exp_draw(&c->rng, OBJECT_RATE);
  }
}

static int synthetic_next(vq_camera_t *c) {
  c->switched = c->first;
  c->first = 0;
  const vq_image_t *p = c->photos[c->cur];
  if (c->dwell-- <= 0) {
    switch_photo(c);
    p = c->photos[c->cur];
  } else {
    c->px += c->vx;
    c->py += c->vy;
    double mx = p->w - VQ_FRAME_W - 1, my = p->h - VQ_FRAME_H - 1; /* bilinear reads x + 1 */
    if (c->px < 0 || c->px > mx) {
      c->vx = -c->vx;
      c->px = fmin(fmax(c->px, 0), mx);
    }
    if (c->py < 0 || c->py > my) {
      c->vy = -c->vy;
      c->py = fmin(fmax(c->py, 0), my);
    }
  }
  step_objects(c);
  int ix = (int)c->px, iy = (int)c->py;
  float fx = (float)(c->px - ix), fy = (float)(c->py - iy);
  for (int y = 0; y < VQ_FRAME_H; y++) { /* the view: a sub-pixel window of the photograph */
    const float *r0 = p->px + (size_t)(iy + y) * p->w + ix, *r1 = r0 + p->w;
    float *out = c->frame.px + (size_t)y * VQ_FRAME_W;
    for (int x = 0; x < VQ_FRAME_W; x++) {
      float top = r0[x] + fx * (r0[x + 1] - r0[x]), bot = r1[x] + fx * (r1[x + 1] - r1[x]);
      out[x] = top + fy * (bot - top);
    }
  }
  for (int i = 0; i < c->nobj; i++)
    draw(&c->obj[i], &c->frame);
  vq_perturb_noise(&c->frame, NOISE_SIGMA, &c->rng);
  return 0;
}

static int dir_next(vq_camera_t *c) {
  const vq_image_t *q = c->photos[c->next];
  memcpy(c->frame.px, q->px, (size_t)VQ_FRAME_W * VQ_FRAME_H * sizeof(float));
  c->truth = c->shows[c->next];
  c->switched = 1;
  c->next = (c->next + 1) % c->nphotos;
  return 0;
}

/* Decodes the directory's first CAMERA_FILES files at QVGA, with their truths. */
static int load_files(vq_camera_t *c) {
  size_t m = c->npaths < CAMERA_FILES ? c->npaths : CAMERA_FILES;
  c->photos = calloc(m ? m : 1, sizeof *c->photos);
  c->shows = malloc((m ? m : 1) * sizeof *c->shows);
  if (!c->photos || !c->shows)
    return spot_fail(SPOT_ENOMEM, "no memory for the camera's pictures");
  for (size_t i = 0; i < m; i++) {
    int rc = acquire(c->paths[i], 1, &c->photos[i]);
    if (rc < 0)
      return rc;
    c->shows[i] = c->lib ? (int32_t)vq_library_find(c->lib, vq_basename(c->paths[i])) : -1;
    c->nphotos = i + 1;
  }
  if (m == 0)
    return spot_fail(SPOT_ENOTFOUND, "%s holds no image files (the directory camera replays them)", c->dir);
  return 0;
}

static vq_camera_t *camera_new(const vq_library_t *lib, const char *dir) {
  vq_camera_t *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  c->lib = lib;
  c->truth = -1;
  c->dir = strdup(dir);
  c->frame.w = VQ_FRAME_W;
  c->frame.h = VQ_FRAME_H;
  c->frame.px = calloc((size_t)VQ_FRAME_W * VQ_FRAME_H, sizeof(float));
  if (!c->dir || !c->frame.px) {
    vq_camera_close(c);
    return NULL;
  }
  return c;
}

int vq_camera_synthetic(const vq_library_t *lib, const char *images_dir, uint64_t seed, vq_camera_t **out) {
  if (!lib || vq_library_count(lib) == 0 || !images_dir)
    return spot_fail(SPOT_EINVAL, "the synthetic camera needs a library with photographs and their directory");
  vq_camera_t *c = camera_new(lib, images_dir);
  if (!c)
    return spot_fail(SPOT_ENOMEM, "no memory for a camera");
  c->synthetic = 1;
  vq_rng_seed(&c->rng, seed);
  c->truth = -1;
  c->dwell = 0; /* the first frame picks a photograph */
  c->next_object = exp_draw(&c->rng, OBJECT_RATE);
  int rc = load_photos(c, seed);
  if (rc < 0) {
    vq_camera_close(c);
    return rc;
  }
  switch_photo(c);
  c->dwell++; /* the first call shows this photograph rather than switching again */
  c->first = 1;
  *out = c;
  return 0;
}

int vq_camera_dir(const vq_library_t *lib, const char *dir, vq_camera_t **out) {
  vq_camera_t *c = camera_new(lib, dir);
  if (!c)
    return spot_fail(SPOT_ENOMEM, "no memory for a camera");
  int rc = vq_image_list(dir, &c->paths, &c->npaths);
  if (rc == 0)
    rc = load_files(c);
  if (rc < 0) {
    vq_camera_close(c);
    return rc;
  }
  *out = c;
  return 0;
}

int vq_camera_next(vq_camera_t *cam, const vq_image_t **frame, int32_t *truth) {
  int rc = cam->synthetic ? synthetic_next(cam) : dir_next(cam);
  if (rc < 0)
    return rc;
  *frame = &cam->frame;
  *truth = cam->truth;
  return 0;
}

/* Objects in view: *whole those with at least half their area inside, *part the others that overlap it. */
static void in_view(const vq_camera_t *c, int *whole, int *part) {
  *whole = *part = 0;
  for (int i = 0; i < c->nobj; i++) {
    const object_t *o = &c->obj[i];
    double w = fmin(o->x + o->w, VQ_FRAME_W) - fmax(o->x, 0), h = fmin(o->y + o->h, VQ_FRAME_H) - fmax(o->y, 0);
    if (w > 0 && h > 0)
      (2 * w * h >= (double)o->w * o->h ? (*whole)++ : (*part)++);
  }
}

void vq_camera_info(const vq_camera_t *cam, int *objects, int *partial, int *switched) {
  int whole = 0, part = 0;
  if (cam->synthetic)
    in_view(cam, &whole, &part);
  if (objects)
    *objects = whole;
  if (partial)
    *partial = part;
  if (switched)
    *switched = cam->switched;
}

void vq_camera_close(vq_camera_t *cam) {
  if (!cam)
    return;
  vq_image_free(&cam->frame);
  for (size_t i = 0; i < cam->nphotos; i++)
    release(cam->photos[i]);
  free(cam->photos);
  free(cam->shows);
  vq_image_list_free(cam->paths, cam->npaths);
  free(cam->dir);
  free(cam);
}
