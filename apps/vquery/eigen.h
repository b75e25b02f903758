/*
 * apps/vquery/eigen.h: eigen-decomposition of a small dense symmetric matrix (the SIFT covariance for PCA). Debian's
 * OpenBLAS ships no LAPACKE header, and a 128 x 128 matrix takes a cyclic Jacobi a few milliseconds.
 */
#ifndef VQUERY_EIGEN_H
#define VQUERY_EIGEN_H

/* Eigenvalues and eigenvectors of the symmetric n x n matrix a (row-major; destroyed). values[i] gets the i-th
 * largest eigenvalue and row i of vectors (n x n, row-major) its unit eigenvector. 0, or SPOT_EINVAL when the
 * rotations do not converge (a matrix with NaN or infinite entries). */
int vq_eigen_sym(int n, double *a, double *values, double *vectors);

#endif
