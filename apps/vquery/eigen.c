/*
 * apps/vquery/eigen.c: cyclic Jacobi eigen-decomposition of a symmetric matrix (eigen.h). Each rotation zeroes one
 * off-diagonal pair; sweeps repeat until the off-diagonal mass is negligible against the diagonal.
 */
#include "eigen.h"

#include <math.h>
#include <stdlib.h>

#include "vquery.h"

static double off_diagonal(int n, const double *a, double *diag) {
  double off = 0, d = 0;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      if (i != j)
        off += a[i * n + j] * a[i * n + j];
      else
        d += a[i * n + j] * a[i * n + j];
  *diag = d;
  return off;
}

int vq_eigen_sym(int n, double *a, double *values, double *vectors) {
  double *v = malloc((size_t)n * n * sizeof *v);
  int *order = malloc((size_t)n * sizeof *order);
  if (!v || !order) {
    free(v);
    free(order);
    return spot_fail(SPOT_ENOMEM, "no memory for a %dx%d eigen-decomposition", n, n);
  }
  for (int i = 0; i < n * n; i++)
    v[i] = (i % (n + 1)) == 0;
  int converged = 0;
  for (int sweep = 0; sweep < 100 && !converged; sweep++) {
    double diag, off = off_diagonal(n, a, &diag);
    if (!isfinite(off) || !isfinite(diag))
      break;
    if (off <= 1e-24 * diag || off == 0) {
      converged = 1;
      break;
    }
    for (int p = 0; p < n - 1; p++)
      for (int q = p + 1; q < n; q++) {
        double apq = a[p * n + q];
        if (fabs(apq) < 1e-300)
          continue;
        double tau = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        double t = (tau >= 0 ? 1.0 : -1.0) / (fabs(tau) + sqrt(1 + tau * tau));
        double c = 1 / sqrt(1 + t * t), s = t * c;
        for (int k = 0; k < n; k++) { /* A J: columns p and q */
          double kp = a[k * n + p], kq = a[k * n + q];
          a[k * n + p] = c * kp - s * kq;
          a[k * n + q] = s * kp + c * kq;
        }
        for (int k = 0; k < n; k++) { /* J^T (A J): rows p and q */
          double pk = a[p * n + k], qk = a[q * n + k];
          a[p * n + k] = c * pk - s * qk;
          a[q * n + k] = s * pk + c * qk;
        }
        for (int k = 0; k < n; k++) { /* V J */
          double kp = v[k * n + p], kq = v[k * n + q];
          v[k * n + p] = c * kp - s * kq;
          v[k * n + q] = s * kp + c * kq;
        }
      }
  }
  if (!converged) {
    free(v);
    free(order);
    return spot_fail(SPOT_EINVAL, "the eigen-decomposition of a %dx%d matrix did not converge (NaN or infinite "
                                  "entries: check the training images)", n, n);
  }
  for (int i = 0; i < n; i++)
    order[i] = i;
  for (int i = 1; i < n; i++) { /* insertion sort, largest eigenvalue first */
    int o = order[i], j = i;
    while (j > 0 && a[order[j - 1] * n + order[j - 1]] < a[o * n + o]) {
      order[j] = order[j - 1];
      j--;
    }
    order[j] = o;
  }
  for (int i = 0; i < n; i++) {
    values[i] = a[order[i] * n + order[i]];
    for (int k = 0; k < n; k++)
      vectors[i * n + k] = v[k * n + order[i]];
  }
  free(v);
  free(order);
  return 0;
}
