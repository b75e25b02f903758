/*
 * spot/error.h: the one list of spot's error codes.
 *
 * Every spot function returns an int: 0 on success or one of the negative SPOT_E* codes below. The list is an
 * X-macro so the enum, spot_strerror() and spot_errname() can never disagree. Besides the code, a failing call may
 * leave a one-line explanation for the current thread (spot_errdetail()), naming the log, the sequence number or
 * the file concerned and what the user can do about it; the command line prints that line.
 */
#ifndef SPOT_ERROR_H
#define SPOT_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* X(NAME, value, text): text is what spot_strerror() returns. Values are stable: append, never renumber. */
#define SPOT_ERRORS(X)                                                                        \
  X(EINVAL, -1, "invalid argument")                                                           \
  X(ENOMEM, -2, "out of memory")                                                              \
  X(ENOTFOUND, -3, "not found")                                                               \
  X(EEXIST, -4, "already exists")                                                             \
  X(EEXPIRED, -5, "sequence number has expired (overwritten by newer elements)")              \
  X(ENOTYET, -6, "sequence number has not been written yet")                                  \
  X(ETOOBIG, -7, "element longer than the log's element size")                                \
  X(EBADNAME, -8, "invalid name (use letters, digits, '_' and '-', at most 63, not first '-')") \
  X(ECORRUPT, -9, "log file is corrupt")                                                      \
  X(EIO, -10, "input/output error")                                                           \
  X(ENOSPC, -11, "no space left on device")                                                   \
  X(EFAILED, -12, "log refuses writes after a failed write or sync; reopen it")                \
  X(EBUSY, -13, "busy")                                                                       \
  X(EVERSION, -14, "unsupported log format version")                                          \
  X(ENONS, -15, "not a spot namespace")                                                       \
  X(ETIMEDOUT, -16, "timed out")                                                              \
  X(EPERM, -17, "permission denied")                                                          \
  X(EEMPTY, -18, "log is empty")                                                              \
  X(ERANGE, -19, "value out of range")                                                        \
  X(ECLOSED, -20, "handle is closed")                                                         \
  X(ENOTSUP, -21, "not supported by this build")

typedef enum spot_err {
  SPOT_OK = 0,
#define SPOT__ERR_ENUM(name, value, text) SPOT_##name = value,
  SPOT_ERRORS(SPOT__ERR_ENUM)
#undef SPOT__ERR_ENUM
} spot_err_t;

/* The fixed text of an error code ("unknown error" for a value not in the list). Never NULL; static storage. */
const char *spot_strerror(int err);

/* The code's name, e.g. "SPOT_EEXPIRED". Never NULL; static storage. */
const char *spot_errname(int err);

/* The explanation left by the last failing spot call on this thread, or "" if it left none. The text stays valid
 * until the next spot call on the same thread. */
const char *spot_errdetail(void);

/* Leaves a printf-style detail line for spot_errdetail() on this thread and returns err unchanged, so code built on
 * spot (apps/, handlers) reports its own failures the way spot does: `return spot_fail(SPOT_EINVAL, "...")`. In a
 * handler, spot_fail(ctx, "...") with the run's spot_ctx_t * (spot/handler.h) records the reason its fail event
 * gives; a line left here by the run's last failing call is used when it gave none. */
int spot_fail(int err, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif
