/*
 * spot.h: the umbrella header of libspot, spot's Serverless Platform Of Things library.
 *
 * spot_ (public) names only; see each area's header for its contracts.
 */
#ifndef SPOT_H
#define SPOT_H

#include "spot/error.h"
#include "spot/events.h"
#include "spot/io.h"
#include "spot/handler.h"
#include "spot/log.h"
#include "spot/node.h"
#include "spot/ns.h"
#include "spot/status.h"

#define SPOT_VERSION "0.1.0"

#endif
