/*
 * name.c: the one place that decides what a valid log, namespace or handler name is (see core/name.h).
 */
#include "core/name.h"

#include "core/error.h"

static int name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

int spot__name_check(const char *name, const char *what) {
  if (name == NULL || name[0] == '\0')
    return spot__fail(SPOT_EBADNAME, "%s name is empty", what);
  if (name[0] == '-')
    return spot__fail(SPOT_EBADNAME, "%s name '%.80s' starts with '-'", what, name);
  size_t n = 0;
  for (; name[n] != '\0'; n++) {
    if (n >= SPOT_NAME_MAX)
      return spot__fail(SPOT_EBADNAME, "%s name '%.40s...' is longer than %d characters", what, name, SPOT_NAME_MAX);
    if (!name_char(name[n]))
      return spot__fail(SPOT_EBADNAME,
                        "%s name '%.80s' has a character other than letters, digits, '_' and '-' at position %zu", what,
                        name, n + 1);
  }
  return 0;
}
