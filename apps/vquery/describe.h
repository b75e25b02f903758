/*
 * apps/vquery/describe.h: the descriptor pipeline's internal steps, shared by describe.c (queries) and train.c (the
 * model): projecting RootSIFT descriptors with the model's PCA.
 */
#ifndef VQUERY_DESCRIBE_H
#define VQUERY_DESCRIBE_H

#include <stddef.h>

#include "vquery.h"

/* out (n x VQ_PCA_DIM) = (x - mean) projected on the model's principal directions; x (n x 128) is centred in place. */
void vq_pca_project(const vq_model_t *m, float *x, size_t n, float *out);

#endif
