/*
 * apps/vquery/library_cmd.c: the verbs `spot vquery library build` (train a model, or reuse a library's, and index a
 * directory of photographs into FILE.vql) and `spot vquery match` (describe images and look them up in a library
 * with one batched sgemm). Exit status: 0 done, 1 with one line on stderr saying what failed and what to do, 2 for a
 * usage error (commands.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "match_index.h"
#include "vquery.h"

static const char build_usage[] =
    "usage: spot vquery library build --train DIR --images DIR --out FILE.vql [--model FILE.vql] [--seed S]\n"
    "  Trains the descriptor model (SIFT -> PCA to 64 dimensions -> 4 k-means centres) on the photographs in\n"
    "  --train, describes every image in --images (VLAD, 256 floats) and writes FILE.vql (versioned, checksummed).\n"
    "  Each entry is named after its image file. --model reuses the model of an existing library instead of\n"
    "  training (then --train is not needed). The training images must not be in the library.\n";

static const char match_usage[] =
    "usage: spot vquery match FILE.vql IMAGE... [--top K] [--json] [--exact | --nprobe N]\n"
    "  Describes each image and prints its best library match and score (inner product of unit descriptors,\n"
    "  1 = identical), one line per image; --top K prints the K best; --json prints\n"
    "  {\"image\":...,\"match\":...,\"score\":...} lines (with \"top\":[...] when K > 1).\n"
    "  A library of 10,000 images or more is searched in two stages (the lists of a coarse quantiser nearest to\n"
    "  the query, then exact scores over their entries); --exact scores every entry instead, --nprobe N sets the\n"
    "  lists searched (more: closer to --exact, slower). Smaller libraries are always searched exactly.\n";

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fail_line(const char *what, int rc) {
  const char *d = spot_errdetail();
  fprintf(stderr, "spot vquery %s: %s\n", what, d[0] ? d : spot_strerror(rc));
  return 1;
}

static int parse_u64(const char *s, unsigned long long *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s || *end || s[0] == '-')
    return -1;
  *out = v;
  return 0;
}

static int build(int argc, char **argv) {
  const char *train = NULL, *images = NULL, *out = NULL, *model_from = NULL;
  unsigned long long seed = 1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(build_usage, stdout);
      return 0;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "spot vquery library build: %s needs a value\n%s", a, build_usage);
      return 2;
    }
    const char *v = argv[++i];
    if (!strcmp(a, "--train"))
      train = v;
    else if (!strcmp(a, "--images"))
      images = v;
    else if (!strcmp(a, "--out"))
      out = v;
    else if (!strcmp(a, "--model"))
      model_from = v;
    else if (!strcmp(a, "--seed")) {
      if (parse_u64(v, &seed) < 0) {
        fprintf(stderr, "spot vquery library build: --seed wants a non-negative integer, not '%s'\n", v);
        return 2;
      }
    } else {
      fprintf(stderr, "spot vquery library build: unknown option '%s'\n%s", a, build_usage);
      return 2;
    }
  }
  if (!images || !out || (!train && !model_from)) {
    fprintf(stderr, "spot vquery library build: --images, --out and one of --train or --model are required\n%s",
            build_usage);
    return 2;
  }
  int rc, status = 1;
  char **tpaths = NULL, **ipaths = NULL;
  size_t nt = 0, ni = 0;
  vq_model_t *model = malloc(sizeof *model);
  float *desc = NULL;
  const char **names = NULL;
  double t0 = now_s();
  if (!model) {
    fprintf(stderr, "spot vquery library build: out of memory\n");
    return 1;
  }
  if ((rc = vq_image_list(images, &ipaths, &ni)) < 0) {
    fail_line("library build", rc);
    goto done;
  }
  if (model_from) {
    vq_library_t *lib;
    if ((rc = vq_library_open(model_from, &lib)) < 0) {
      fail_line("library build", rc);
      goto done;
    }
    *model = *vq_library_model(lib);
    vq_library_close(lib);
  } else {
    if ((rc = vq_image_list(train, &tpaths, &nt)) < 0) {
      fail_line("library build", rc);
      goto done;
    }
    for (size_t i = 0; i < nt; i++) /* the model must not have seen the library */
      for (size_t j = 0; j < ni; j++)
        if (!strcmp(vq_basename(tpaths[i]), vq_basename(ipaths[j]))) {
          fprintf(stderr, "spot vquery library build: %s is both a training and a library image: train on "
                          "photographs that are not in the library\n", vq_basename(tpaths[i]));
          goto done;
        }
    if ((rc = vq_model_train((const char *const *)tpaths, nt, seed, model)) < 0) {
      fail_line("library build", rc);
      goto done;
    }
  }
  desc = malloc(ni * VQ_DIM * sizeof *desc);
  names = malloc(ni * sizeof *names);
  if (!desc || !names) {
    fprintf(stderr, "spot vquery library build: out of memory for %zu images\n", ni);
    goto done;
  }
  for (size_t i = 0; i < ni; i++) {
    vq_image_t img;
    names[i] = vq_basename(ipaths[i]);
    if ((rc = vq_image_load(ipaths[i], &img)) < 0) {
      fail_line("library build", rc);
      goto done;
    }
    rc = vq_describe_photo(model, &img, desc + i * VQ_DIM);
    vq_image_free(&img);
    if (rc < 0) {
      fprintf(stderr, "spot vquery library build: %s: %s (remove it from %s)\n", ipaths[i], spot_errdetail(), images);
      goto done;
    }
  }
  if ((rc = vq_library_write(out, model, names, desc, ni)) < 0) {
    fail_line("library build", rc);
    goto done;
  }
  printf("%s: %zu images from %s, model %s %s, %.1f s\n", out, ni, images, model_from ? "from" : "trained on",
         model_from ? model_from : train, now_s() - t0);
  status = 0;
done:
  vq_image_list_free(tpaths, nt);
  vq_image_list_free(ipaths, ni);
  free(model);
  free(desc);
  free(names);
  return status;
}

int vq_cmd_library(int argc, char **argv) {
  if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    fputs(build_usage, stdout);
    return 0;
  }
  if (argc < 2 || strcmp(argv[1], "build") != 0) {
    fprintf(stderr, "spot vquery library: the only subcommand is build\n%s", build_usage);
    return 2;
  }
  return build(argc - 1, argv + 1);
}

static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      fprintf(f, "\\%c", c);
    else if (c < 0x20)
      fprintf(f, "\\u%04x", c);
    else
      fputc(c, f);
  }
  fputc('"', f);
}

static void print_hits(const vq_library_t *lib, const char *image, const vq_hit_t *h, size_t k, int json) {
  const char *best = h[0].index >= 0 ? vq_library_name(lib, (size_t)h[0].index) : "";
  if (json) {
    fputs("{\"image\":", stdout);
    json_string(stdout, image);
    fputs(",\"match\":", stdout);
    json_string(stdout, best);
    printf(",\"score\":%.6f", h[0].score);
    if (k > 1) {
      fputs(",\"top\":[", stdout);
      for (size_t j = 0; j < k && h[j].index >= 0; j++) {
        fputs(j ? ",{\"match\":" : "{\"match\":", stdout);
        json_string(stdout, vq_library_name(lib, (size_t)h[j].index));
        printf(",\"score\":%.6f}", h[j].score);
      }
      fputc(']', stdout);
    }
    fputs("}\n", stdout);
    return;
  }
  printf("%s", image);
  for (size_t j = 0; j < k && h[j].index >= 0; j++)
    printf("%s%s %.4f", j ? "  " : "\t", vq_library_name(lib, (size_t)h[j].index), h[j].score);
  putchar('\n');
}

int vq_cmd_match(int argc, char **argv) {
  const char *libpath = NULL;
  const char **images = calloc(argc > 0 ? (size_t)argc : 1, sizeof *images);
  size_t n = 0;
  unsigned long long top = 1;
  int json = 0, status = 2;
  vq_match_opts_t opts = {0};
  unsigned long long nprobe = 0;
  vq_library_t *lib = NULL;
  float *q = NULL;
  vq_hit_t *hits = NULL;
  if (!images) {
    fprintf(stderr, "spot vquery match: out of memory\n");
    return 1;
  }
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(match_usage, stdout);
      status = 0;
      goto done;
    } else if (!strcmp(a, "--json")) {
      json = 1;
    } else if (!strcmp(a, "--top")) {
      if (i + 1 >= argc || parse_u64(argv[i + 1], &top) < 0 || top == 0 || top > 1000) {
        fprintf(stderr, "spot vquery match: --top wants a number from 1 to 1000\n");
        goto done;
      }
      i++;
    } else if (!strcmp(a, "--exact")) {
      opts.exact = 1;
    } else if (!strcmp(a, "--nprobe")) {
      if (i + 1 >= argc || parse_u64(argv[i + 1], &nprobe) < 0 || nprobe == 0 || nprobe > UINT32_MAX) {
        fprintf(stderr, "spot vquery match: --nprobe wants a positive number of lists\n");
        goto done;
      }
      opts.nprobe = (uint32_t)nprobe;
      i++;
    } else if (a[0] == '-' && a[1] == '-') {
      fprintf(stderr, "spot vquery match: unknown option '%s'\n%s", a, match_usage);
      goto done;
    } else if (!libpath) {
      libpath = a;
    } else {
      images[n++] = a;
    }
  }
  if (!libpath || n == 0) {
    fprintf(stderr, "spot vquery match: give a library and at least one image\n%s", match_usage);
    goto done;
  }
  status = 1;
  int rc = vq_library_open(libpath, &lib);
  if (rc < 0) {
    fail_line("match", rc);
    goto done;
  }
  q = malloc(n * VQ_DIM * sizeof *q);
  hits = malloc(n * top * sizeof *hits);
  if (!q || !hits) {
    fprintf(stderr, "spot vquery match: out of memory for %zu images\n", n);
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    vq_image_t img;
    if ((rc = vq_image_load(images[i], &img)) < 0) {
      fail_line("match", rc);
      goto done;
    }
    rc = vq_describe_photo(vq_library_model(lib), &img, q + i * VQ_DIM);
    vq_image_free(&img);
    if (rc < 0) {
      fprintf(stderr, "spot vquery match: %s: %s\n", images[i], spot_errdetail());
      goto done;
    }
  }
  if (opts.nprobe > 0 && vq_library_index(lib)->nlist == 0)
    fprintf(stderr, "spot vquery match: %s has fewer than %u entries and no lists: every search is exact\n", libpath,
            VQ_IVF_MIN_ENTRIES);
  else if (opts.nprobe > vq_library_index(lib)->nlist && !opts.exact)
    fprintf(stderr, "spot vquery match: %s has %u lists; --nprobe %u searches them all\n", libpath,
            vq_library_index(lib)->nlist, opts.nprobe);
  if ((rc = vq_match_library(lib, q, n, (size_t)top, &opts, hits)) < 0) {
    fail_line("match", rc);
    goto done;
  }
  for (size_t i = 0; i < n; i++)
    print_hits(lib, images[i], hits + i * top, (size_t)top, json);
  status = 0;
done:
  vq_library_close(lib);
  free(images);
  free(q);
  free(hits);
  return status;
}
