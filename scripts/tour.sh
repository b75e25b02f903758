#!/usr/bin/env bash
# tour.sh: the platform walkthrough (scripts/demo.sh is the media-query experiment): installs what is missing, builds, and walks
# through spot end to end with the `spot` command line and the `spotd` node: a namespace, logs of each durability,
# puts and gets, the ring expiring old elements, a writer killed with kill -9 in the middle of a stream of appends
# and the recovery that follows; then handlers: built and registered, run by spotd in worker processes on every put,
# a chain traced through its causes, a crashing handler that takes down only its worker, a day of frost readings;
# two nodes over ZeroMQ with CURVE keys and access rights; and the energy/billing planner. Everything happens in a scratch namespace that is removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$(nproc)" >/dev/null
spot=$PWD/build/release/spot
export SPOT_DIR=$(mktemp -d /tmp/spot-tour.XXXXXX)/ns
spotd_pid=
trap '[ -n "$spotd_pid" ] && kill $spotd_pid 2>/dev/null; rm -rf "$(dirname "$SPOT_DIR")"' EXIT
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

say "$spot" init
say "$spot" create boiler --size 16 --history 5 --sync batch
say "$spot" create alarms --size 64 --history 1000 --sync always
for t in 21.5 21.7 22.0 22.4 22.9 23.1 23.0; do
  printf '$ spot put boiler --data %s -> ' "$t"
  "$spot" put boiler --data "$t"
done
say "$spot" get boiler latest; echo
say "$spot" latest boiler
echo; echo "# the ring keeps the newest 5 elements: element 1 has expired"
"$spot" get boiler 1 || true
echo "boiler pressure high" | { printf '\n$ echo "boiler pressure high" | spot put alarms - -> '; "$spot" put alarms -; }
say "$spot" ls
say "$spot" info boiler

echo; echo "# a writer appending as fast as it can, killed with kill -9 after half a second"
"$spot" create stream --size 64 --history 100000 --sync none
( i=0; while :; do i=$((i + 1)); "$spot" put stream --data "reading $i" >/dev/null; done ) &
writer=$!
sleep 0.5
kill -STOP $writer 2>/dev/null || true     # freeze the loop, then kill it and the put it is running
pkill -9 -P $writer 2>/dev/null || true
kill -9 $writer 2>/dev/null || true
wait $writer 2>/dev/null || true
say "$spot" check stream
say "$spot" latest stream
printf '\n$ spot get stream latest -> '
"$spot" get stream latest | tr -d '\0'; echo

echo; echo "# handlers: C functions run on put, by the node daemon"
say "$spot" build-handler examples/chain/chain.c
say "$spot" build-handler examples/frost/frost.c
cat > "$(dirname "$SPOT_DIR")/crashy.c" <<'C'
#include <spot/handler.h>
static int crashy(spot_ctx_t *ctx, const spot_event_t *ev) { return *(volatile int *)0; } /* SIGSEGV */
SPOT_HANDLER(crashy)
C
"$spot" build-handler "$(dirname "$SPOT_DIR")/crashy.c" >/dev/null
say "$spot" handlers
for l in a b c; do "$spot" create $l --size 16 --history 100; done
echo; echo "\$ spotd &        # worker mode, 2 worker processes"
build/release/spotd --workers 2 --timeout-ms 1000 &
spotd_pid=$!
sleep 0.3
say "$spot" put a --handler chain_a --data hop
say "$spot" put b --handler crashy --data boom
say "$spot" put c --handler nosuch --data x || true
build/release/examples/frost_replay "$SPOT_DIR"
for i in $(seq 100); do                     # wait (at most 10 s) for the 3 + 1 + 432 handler runs
  n=$("$spot" events --json | grep -cE '"type":"(end|fail)"' || true)
  [ "$n" -ge 436 ] && break
  sleep 0.1
done
say "$spot" trace c 1
echo; echo "\$ spot events --json | grep fail"
"$spot" events --json | grep '"type":"fail"' | cut -c1-230
say "$spot" latest frost_alerts
kill $spotd_pid; wait $spotd_pid 2>/dev/null || true; spotd_pid=

echo; echo "# two nodes: a device putting to a cloud node over ZeroMQ with CURVE, with keys and rights"
keys=$(dirname "$SPOT_DIR")
cloud_ns=$keys/cloud
(cd "$keys" && "$spot" keygen cloud >/dev/null && "$spot" keygen device >/dev/null)
"$spot" init "$cloud_ns" >/dev/null
"$spot" -n "$cloud_ns" create readings --size 32 --history 1000
echo "$(cat "$keys/device.pub") get,put   # the device" > "$cloud_ns/access"
port=$((7400 + RANDOM % 500))
echo "\$ spotd -n cloud --listen 127.0.0.1:$port --key cloud.key &"
build/release/spotd -n "$cloud_ns" --listen 127.0.0.1:$port --key "$keys/cloud.key" --quiet &
spotd_pid=$!
sleep 0.3
export SPOT_KEY=$keys/device.key SPOT_NODE_KEY=$keys/cloud.pub
say "$spot" put spot://127.0.0.1:$port/cloud/readings --data "pump 3: 4.2 bar"
printf '\n$ spot get spot://127.0.0.1:%s/cloud/readings latest -> ' $port
"$spot" get spot://127.0.0.1:$port/cloud/readings latest | tr -d '\0'; echo
echo; echo "\$ spot put ... with a key the cloud does not know"
SPOT_KEY= "$spot" put spot://127.0.0.1:$port/cloud/readings --data intruder || true
unset SPOT_KEY SPOT_NODE_KEY
kill $spotd_pid; wait $spotd_pid 2>/dev/null || true; spotd_pid=

echo; echo "# the energy/billing planner (docs/model.md)"
say "$spot" plan design --dist exponential --devices 100 --mu 8000 --energy 2.5
echo; echo "tour finished: every step above ran against the real store and node in $SPOT_DIR"
