/*
 * frost.h: the records of the frost example: a temperature reading (the elements of log `temperature`) and a frost
 * alert (the elements of log `frost_alerts`).
 */
#ifndef FROST_H
#define FROST_H

#include <stdint.h>

#define FROST_WINDOW 6          /* readings in the moving average */
#define FROST_THRESHOLD_C 0.5f  /* alert when the average falls below this */

typedef struct reading {
  char sensor[16];
  int32_t minute; /* minutes since midnight */
  float celsius;
} reading_t;

typedef struct alert {
  char sensor[16];
  int32_t minute;
  float average;
} alert_t;

#endif
