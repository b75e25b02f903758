/*
 * core/grow.h: the one growable array of the library (header only): an array of items with a count and a capacity
 * that doubles when it is full. The caller keeps the three fields in its own struct and adds items itself.
 */
#ifndef SPOT_CORE_GROW_H
#define SPOT_CORE_GROW_H

#include <stdlib.h>
#include <string.h>

#include "spot/error.h"

/* Makes room for one more item in the array *itemsp (a pointer to the array's pointer, of any item type) of items of
 * `size` bytes, n of them used out of *cap: when n == *cap it reallocates the array to twice *cap items (`first`
 * when *cap is 0). Returns 0, then item n may be written; or SPOT_ENOMEM with the array and *cap as they were (the
 * caller says what could not be added). */
static inline int spot__grow(void *itemsp, size_t *cap, size_t n, size_t size, size_t first) {
  if (n < *cap)
    return 0;
  void *items;
  memcpy(&items, itemsp, sizeof items);
  size_t more = *cap ? *cap * 2 : first;
  void *v = realloc(items, more * size);
  if (v == NULL)
    return SPOT_ENOMEM;
  memcpy(itemsp, &v, sizeof v);
  *cap = more;
  return 0;
}

#endif
