#!/usr/bin/env bash
# opslog_test.sh: what an operator reads about a node (issue 12, item 6), through spotd and spot as built:
#   levels    --log-level warn leaves out info lines and keeps errors; plain lines are `spotd: LEVEL: ...`, and
#             `<N>...` when stderr is the journal ($JOURNAL_STREAM names it: faked here with a file's dev:inode)
#   daemon    spotd --daemon keeps its handlers' output: stdout, stderr and spot_print of a worker's handler land
#             in DIR/.spot/spotd.log, each line prefixed [HANDLER #RUN]
#   reasons   `spot events` shows why runs failed: "SPOT_ERANGE: <the spot_fail line>", "returned 3: <the last
#             line printed>", and a crash's signal and last line (SIGSEGV: ...), whose output also reaches the
#             log; the exit summary counts all three as failed
#   sighup    --log FILE renamed, then SIGHUP: spotd's and its handlers' new lines go to the new FILE, none to
#             the renamed one
# Every wait is a bounded poll; nothing asserts a timing.
#   opslog_test.sh BIN_DIR HANDLERS_C TMP_DIR
set -uo pipefail
bin=$1 handlers=$2 tmpbase=$3
mkdir -p "$tmpbase"
t=$(mktemp -d "$tmpbase/opslog-XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  [ -f "$t/ns/.spot/d.pid" ] && kill "$(cat "$t/ns/.spot/d.pid")" 2>/dev/null
  sleep 0.2
  rm -rf "$t"
}
trap cleanup EXIT
failed=0
fail() { echo "FAIL: $*"; failed=1; }
# waits (at most 15 s) until grep -q "$2" "$1" succeeds
wait_grep() {
  for _ in $(seq 150); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}
spot() { "$bin/spot" "$@"; }
export SPOT_DIR=$t/ns
unset SPOT_KEY SPOT_NODE_KEY JOURNAL_STREAM

spot init >/dev/null && spot create t --size 32 --history 100 >/dev/null &&
  spot build-handler "$handlers" >/dev/null || { echo "FAIL: setup"; exit 1; }

# ---- levels ----
"$bin/spotd" --log-level warn --pidfile "$t/warn.pid" 2>"$t/warn.err" &
pids+=($!)
wait_grep "$t/warn.pid" "[0-9]" || fail "levels: spotd did not start: $(cat "$t/warn.err")"
"$bin/spotd" --log-level warn 2>"$t/second.err" && fail "levels: a second spotd served the namespace"
grep -q "^spotd: error: cannot start the node" "$t/second.err" || fail "levels: a second spotd's error line: $(cat "$t/second.err")"
kill "${pids[-1]}"; wait "${pids[-1]}"
grep -q "info:" "$t/warn.err" && fail "levels: --log-level warn printed info lines: $(cat "$t/warn.err")"
"$bin/spotd" 2>"$t/info.err" &
p=$!
wait_grep "$t/info.err" "^spotd: info: serving " || fail "levels: no info line by default: $(cat "$t/info.err")"
kill $p; wait $p
grep -q "^spotd: info: stopped" "$t/info.err" || fail "levels: no stop line: $(cat "$t/info.err")"
: >"$t/journal.err"
JOURNAL_STREAM=$(stat -c '%d:%i' "$t/journal.err") "$bin/spotd" 2>>"$t/journal.err" &
p=$!
wait_grep "$t/journal.err" "^<6>serving " || fail "levels: no <6> priority prefix under the journal: $(cat "$t/journal.err")"
kill $p; wait $p

# ---- daemon: handler output kept ----
"$bin/spotd" --daemon --pidfile "$t/ns/.spot/d.pid" 2>"$t/daemon.err" || fail "daemon: did not start: $(cat "$t/daemon.err")"
log=$t/ns/.spot/spotd.log
spot put t --handler noisy --data hello >/dev/null
for s in "noisy-stdout hello" "noisy-stderr hello" "noisy-print hello"; do
  wait_grep "$log" "Z \[noisy #[0-9]*\] $s\$" || fail "daemon: '$s' not in the log, prefixed: $(cat "$log")"
done

# ---- reasons ----
picky=$(spot put t --handler picky --data 99.5)
spot put t --handler grumpy --data x >/dev/null
spot put t --handler crashy --data x >/dev/null
for _ in $(seq 150); do [ "$(spot events | grep -c ' fail ')" -ge 3 ] && break; sleep 0.1; done
spot events >"$t/events"
grep -q "picky .*-19 .*SPOT_ERANGE: reading 99.5 out of range" "$t/events" || fail "reasons: picky: $(cat "$t/events")"
grep -q "grumpy .* 3 .*returned 3: grumpy: the last words" "$t/events" || fail "reasons: grumpy: $(cat "$t/events")"
grep -q "crashy .*worker killed by SIGSEGV: crashy: falling" "$t/events" || fail "reasons: crashy: $(cat "$t/events")"
wait_grep "$log" "Z \[crashy #[0-9]*\] crashy: falling\$" || fail "daemon: a crashed run's output is not in the log: $(cat "$log")"
spot trace t "$picky" >"$t/trace" && grep -q "SPOT_ERANGE: reading 99.5 out of range" "$t/trace" ||
  fail "reasons: spot trace: $(cat "$t/trace")"
spot events --json | grep -q '"reason":"SPOT_ERANGE: reading 99.5 out of range"' || fail "reasons: events --json"
dpid=$(cat "$t/ns/.spot/d.pid")
kill "$dpid"
for _ in $(seq 150); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
grep -q "info: stopping after 4 handler runs (3 failed so far" "$log" || fail "summary: $(grep stopping "$log")"

# ---- sighup ----
"$bin/spotd" --log "$t/spotd.log" 2>"$t/hup.err" &
p=$!
pids+=($p)
wait_grep "$t/spotd.log" "info: serving " || fail "sighup: no start line in the log: $(cat "$t/hup.err")"
mv "$t/spotd.log" "$t/spotd.log.1"
kill -HUP $p
wait_grep "$t/spotd.log" "info: SIGHUP: log .* opened anew" || fail "sighup: the log was not opened anew"
spot put t --handler noisy --data after >/dev/null
wait_grep "$t/spotd.log" "\[noisy #[0-9]*\] noisy-stderr after" || fail "sighup: handler output not in the new log"
grep -q "after\|SIGHUP" "$t/spotd.log.1" && fail "sighup: new lines in the renamed log: $(cat "$t/spotd.log.1")"
kill $p; wait $p
grep -q "info: stopped" "$t/spotd.log" || fail "sighup: no stop line in the new log"
[ -s "$t/hup.err" ] && fail "sighup: lines on stderr although --log: $(cat "$t/hup.err")"

[ $failed = 0 ] && echo "opslog_test: levels, daemon output, fail reasons, summary and SIGHUP reopen all as documented"
exit $failed
