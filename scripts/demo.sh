#!/usr/bin/env bash
# demo.sh: spot's main job until the media-query application exists: installs what is missing, builds, and walks
# through the log store end to end with the `spot` command line: a namespace, logs of each durability, puts and
# gets, the ring expiring old elements, a writer killed with kill -9 in the middle of a stream of appends, and the
# recovery and `spot check` that follow. Everything happens in a scratch namespace that is removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$(nproc)" >/dev/null
spot=$PWD/build/release/spot
export SPOT_DIR=$(mktemp -d /tmp/spot-demo.XXXXXX)/ns
trap 'rm -rf "$(dirname "$SPOT_DIR")"' EXIT
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

say "$spot" init
say "$spot" create temperature --size 16 --history 5 --sync batch
say "$spot" create alarms --size 64 --history 1000 --sync always
for t in 21.5 21.7 22.0 22.4 22.9 23.1 23.0; do
  printf '$ spot put temperature --data %s -> ' "$t"
  "$spot" put temperature --data "$t"
done
say "$spot" get temperature latest; echo
say "$spot" latest temperature
echo; echo "# the ring keeps the newest 5 elements: element 1 has expired"
"$spot" get temperature 1 || true
echo "boiler pressure high" | { printf '\n$ echo "boiler pressure high" | spot put alarms - -> '; "$spot" put alarms -; }
say "$spot" ls
say "$spot" info temperature

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
echo; echo "demo finished: every step above ran against the real store in $SPOT_DIR"
