#!/usr/bin/env bash
# status-under-load.sh: what `spot status --json` and a Prometheus scrape of `spotd --metrics` show for a node under
# load. Starts a spotd on a scratch namespace with --metrics on 127.0.0.1, binds the example handler hello to a log,
# puts N elements to it (default 3000, env N) from LOOPS background loops of `spot put` (default 4), and once half
# of them are in
# prints the node's status as JSON and the metrics scrape; then waits for the loop, prints the final counts, stops
# spotd with SIGTERM and removes the namespace. Bounded: gives up after LIMIT seconds (default 180).
#
#   bash scripts/status-under-load.sh [BUILD_DIR]     # BUILD_DIR holds spot and spotd (default build/release)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/release}
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
N=${N:-3000}
LIMIT=${LIMIT:-180}
LOOPS=${LOOPS:-4}
spot=$bin/spot spotd=$bin/spotd
if [ ! -x "$spot" ] || [ ! -x "$spotd" ]; then
  echo "status-under-load: no spot and spotd in $bin; build them (cmake -S . -B build/release && cmake --build" \
       "build/release -j2) or name a build directory" >&2
  exit 2
fi
command -v curl >/dev/null || { echo "status-under-load: needs curl (apt install curl)" >&2; exit 2; }

tmp=$(mktemp -d /tmp/spot-load.XXXXXX)
export SPOT_DIR=$tmp/load
spotd_pid= loop_pid=
finish() {
  if [ -n "$loop_pid" ]; then  # the loops, then their parent
    pkill -P "$loop_pid" 2>/dev/null || true
    kill "$loop_pid" 2>/dev/null || true
    wait "$loop_pid" 2>/dev/null || true
  fi
  if [ -n "$spotd_pid" ] && kill -0 "$spotd_pid" 2>/dev/null; then
    kill -TERM "$spotd_pid"
    for _ in $(seq 100); do kill -0 "$spotd_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$spotd_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap finish EXIT
deadline=$((SECONDS + LIMIT))
past_deadline() { [ "$SECONDS" -ge "$deadline" ]; }

"$spot" init >/dev/null
"$spot" build-handler examples/hello/hello.c >/dev/null
"$spot" create readings --size 64 --history 100000 --sync batch --handler hello >/dev/null
port=$((20000 + RANDOM % 20000))
"$spotd" -n "$SPOT_DIR" --mode worker --workers 2 --watts 4.5 --metrics "127.0.0.1:$port" --log "$tmp/spotd.log" &
spotd_pid=$!
until curl -sf "http://127.0.0.1:$port/metrics" >/dev/null; do
  kill -0 "$spotd_pid" 2>/dev/null || { echo "status-under-load: spotd stopped:" >&2; cat "$tmp/spotd.log" >&2; exit 1; }
  past_deadline && { echo "status-under-load: no metrics on 127.0.0.1:$port" >&2; exit 1; }
  sleep 0.1
done

( for l in $(seq 1 "$LOOPS"); do
    ( for i in $(seq "$l" "$LOOPS" "$N"); do "$spot" put readings --data "reading $i" >/dev/null; done ) &
  done
  wait ) &
loop_pid=$!
latest() { "$spot" latest readings 2>/dev/null || echo 0; }
until [ "$(latest)" -ge $((N / 2)) ]; do
  past_deadline && { echo "status-under-load: only $(latest) of $N puts in $LIMIT s" >&2; exit 1; }
  sleep 0.2
done
echo "# under load: $(latest) of $N puts made, $LOOPS loops still putting"
echo "\$ spot status --json"
"$spot" status --json
echo "\$ curl -s http://127.0.0.1:$port/metrics"
curl -s "http://127.0.0.1:$port/metrics"

while kill -0 "$loop_pid" 2>/dev/null; do
  past_deadline && { echo "status-under-load: the put loop did not finish in $LIMIT s" >&2; exit 1; }
  sleep 0.2
done
wait "$loop_pid"
loop_pid=
until "$spot" status --json | grep -q "\"runs\":$N,"; do  # every put's handler has run
  past_deadline && { echo "status-under-load: not every handler ran in $LIMIT s" >&2; exit 1; }
  sleep 0.2
done
echo "# done: $N puts, every one ran hello"
"$spot" status
