/*
 * errors.c: one mapping from errno values to spot's error codes, for every file of the POSIX port.
 */
#include <errno.h>

#include "platform/posix/posix.h"
#include "spot/error.h"

int spot__posix_err(int e) {
  switch (e) {
  case ENOENT:
  case ENOTDIR:
    return SPOT_ENOTFOUND;
  case EEXIST:
    return SPOT_EEXIST;
  case ENOSPC:
  case EDQUOT:
  case EFBIG:
    return SPOT_ENOSPC;
  case EACCES:
  case EPERM:
  case EROFS:
    return SPOT_EPERM;
  case ENOMEM:
    return SPOT_ENOMEM;
  default:
    return SPOT_EIO;
  }
}
