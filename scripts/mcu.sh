#!/usr/bin/env bash
# mcu.sh: the three scales in one scenario, on this machine. A Cortex-M3 device (the spot_device firmware, with
# examples/frost, examples/hello and examples/uplink linked in, on QEMU's mps2-an385 board, given a random unique
# id), an edge spotd that serves it over the emulated UART (`--serial dev=SOCKET`) and a cloud spotd. The device's
# node id must be the one it was given. The cloud's handler to_device passes readings put at the cloud on to the
# device's log, naming the device's frost handler; the frost alert it raises on the device is read back through
# the edge, and `spot trace` at the cloud prints the tree cloud -> edge -> device. The cloud's handler to_uplink
# puts to the device's log `outgoing` naming uplink, which puts the element back up to the cloud through the edge:
# the trace at the cloud must show cloud -> device -> cloud as one tree. Then the device is reset (QEMU's
# system_reset, as a watchdog would) in the middle of a stream of puts both ways: every put that was acknowledged,
# to the device and from it, must be there afterwards. Last the device is paused (away): a put gets a clear time-out
# naming the edge's outbox, and reaches the device when it is back. Exits 0 only if all of that happened.
#
#   scripts/mcu.sh [BUILD_DIR]      (default build/mcu; builds spot and the firmware there first)
# ctest's mcu_e2e runs it with SPOT_BIN, SPOTD_BIN and SPOT_FIRMWARE set, and it then builds nothing. It exits 77
# (skipped) under SPOT_TEST_QUICK, or without QEMU or the firmware.
set -uo pipefail
cd "$(dirname "$0")/.."
src=$PWD
say() { echo "mcu: $*"; }
if [ -n "${SPOT_TEST_QUICK:-}" ]; then
  say "skipped: SPOT_TEST_QUICK is set (sanitizer/no-network build; the normal build runs it)"
  exit 77
fi
if [ "${SPOT_HAVE_NET:-1}" = 0 ]; then
  say "skipped: this build has no network (SPOT_NET=OFF), and the edge and the cloud talk over it"
  exit 77
fi
if ! command -v qemu-system-arm >/dev/null 2>&1; then
  say "skipped: qemu-system-arm is not installed (scripts/deps.sh)"
  exit 77
fi
if [ -z "${SPOT_BIN:-}" ]; then
  build=${1:-build/mcu}
  say "building spot and the firmware in $build ..."
  cmake -S . -B "$build" >"$build.configure.log" 2>&1 && cmake --build "$build" -j2 >"$build.build.log" 2>&1 ||
    { say "build failed: see $build.configure.log and $build.build.log"; exit 1; }
  SPOT_BIN=$PWD/$build/spot SPOTD_BIN=$PWD/$build/spotd SPOT_FIRMWARE=$PWD/$build/firmware/spot_device.elf
  SPOT_TEST_TMP=$PWD/$build/tmp
fi
fw=${SPOT_FIRMWARE:-}
if [ ! -f "$fw" ]; then
  say "skipped: no firmware at '$fw' (install gcc-arm-none-eabi and picolibc-arm-none-eabi: scripts/deps.sh)"
  exit 77
fi
spot=$SPOT_BIN
spotd=$SPOTD_BIN
mkdir -p "${SPOT_TEST_TMP:-/tmp}"
root=$(mktemp -d "${SPOT_TEST_TMP:-/tmp}/mcu.XXXXXX")
pids=()
cleanup() {
  exec 3>&- 2>/dev/null
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  if [ "${keep:-0}" = 1 ]; then say "kept $root"; else rm -rf "$root"; fi
}
trap cleanup EXIT
fail() {
  say "FAILED: $*"
  for f in qemu.log edge.log cloud.log; do [ -f "$root/$f" ] && { echo "--- $f"; tail -20 "$root/$f"; }; done
  exit 1
}
cd "$root" || exit 1
base=$((20000 + $$ % 9000))
edge_port=$base
cloud_port=$((base + 3))
for k in operator edge cloud; do "$spot" keygen $k >/dev/null || fail "keygen $k"; done
"$spot" init edge >/dev/null && "$spot" init cloud >/dev/null || fail "init"
printf '127.0.0.1:%d %s\n127.0.0.1:%d %s\n' $edge_port "$(cat edge.pub)" $cloud_port "$(cat cloud.pub)" >known_nodes
export SPOT_KNOWN_NODES=$root/known_nodes SPOT_KEY=$root/operator.key SPOT_TIMEOUT_MS=8000
printf '%s get,put,create,deploy\n%s get,put\n' "$(cat operator.pub)" "$(cat cloud.pub)" >edge/access
printf '%s get,put,create,deploy\n%s put\n' "$(cat operator.pub)" "$(cat edge.pub)" >cloud/access

# the device: UART0 on a unix socket the edge connects to; the monitor on a FIFO (for the reset); the console
# (semihosting: the device's own log lines and its handlers' spot_print) in qemu.log
# a unique id for this device (board.h: a real part reads its unique-id register), never 0
uid=$(od -An -N8 -tx8 /dev/urandom | tr -d ' \n')
[ "$uid" = 0000000000000000 ] && uid=0000000000000001
mkfifo monitor
timeout 300 qemu-system-arm -M mps2-an385 -display none -monitor stdio -serial unix:"$root/dev.sock",server=on,wait=off \
  -device loader,addr=0x20003ff0,data=0x"$uid",data-len=8 \
  -semihosting-config enable=on,target=native -kernel "$fw" <monitor >qemu.log 2>&1 &
pids+=($!)
exec 3>monitor
for _ in $(seq 100); do [ -S dev.sock ] && break; sleep 0.1; done
[ -S dev.sock ] || fail "QEMU did not open the device's UART socket"

SPOT_SERIAL_TIMEOUT_MS=3000 "$spotd" -n edge --mode thread --listen 127.0.0.1:$edge_port --key edge.key \
  --serial dev="$root/dev.sock" >edge.log 2>&1 &
pids+=($!)
SPOT_KEY=$root/cloud.key "$spotd" -n cloud --mode thread --listen 127.0.0.1:$cloud_port --key cloud.key \
  >cloud.log 2>&1 &
pids+=($!)
dev=spot://127.0.0.1:$edge_port/dev
for _ in $(seq 100); do "$spot" info "$dev/temperature" >/dev/null 2>&1 && break; sleep 0.2; done
"$spot" info "$dev/temperature" || fail "the device's log is not reachable through the edge"
grep -q "device dev (.*): node $uid" edge.log || fail "the device did not say HELLO with node id $uid (its unique id)"
say "the device is node $uid, the unique id it was given"

# the cloud's handler: readings go on to the device, where frost runs
cat >to_device.c <<C
#include <spot/handler.h>
static int to_device(spot_ctx_t *ctx, const spot_event_t *ev) {
  return spot_ctx_put(ctx, "$dev/temperature", ev->data, ev->size, "frost", NULL);
}
SPOT_HANDLER(to_device)
static int to_uplink(spot_ctx_t *ctx, const spot_event_t *ev) {
  return spot_ctx_put(ctx, "$dev/outgoing", ev->data, ev->size, "uplink", NULL);
}
SPOT_HANDLER(to_uplink)
C
"$spot" -n cloud build-handler to_device.c >/dev/null || fail "build-handler"
"$spot" -n cloud create readings --size 24 --history 64 >/dev/null || fail "create readings"
"$spot" -n cloud create pings --size 32 --history 64 >/dev/null || fail "create pings"
"$spot" -n cloud create from_device --size 32 --history 64 >/dev/null || fail "create from_device"
# frost.h's reading_t: sensor[16], int32 minute, float celsius (-2.0 C: bytes 00 00 00 c0)
for i in 1 2 3 4 5 6; do
  { printf 'valley'; head -c 10 /dev/zero; printf "\\$(printf '%03o' $((i * 10)))\\000\\000\\000\\000\\000\\000\\300"; } \
    >reading
  "$spot" -n cloud put readings --handler to_device - <reading >/dev/null || fail "put reading $i at the cloud"
done
say "put 6 readings of -2.0 C at the cloud; waiting for the device's frost alert ..."
ok=0
for _ in $(seq 100); do
  if "$spot" get "$dev/frost_alerts" 1 >alert 2>/dev/null; then ok=1; break; fi
  sleep 0.2
done
[ $ok = 1 ] || fail "no frost alert came back from the device"
head -c 6 alert | grep -q valley || fail "the alert is not about the valley sensor"
say "the device's frost handler answered: alert for '$(head -c 16 alert | tr -d '\0')' read back through the edge"
grep -q "frost warning: valley" qemu.log || fail "the device did not print the frost warning"
grep "frost warning" qemu.log | head -1

# the trace, from the cloud into the device
trace=""
for _ in $(seq 50); do
  trace=$("$spot" -n cloud trace readings 6 2>&1)
  echo "$trace" | grep -q "frost_alerts" && break
  sleep 0.2
done
echo "$trace"
echo "$trace" | grep -q "to_device" || fail "the trace lacks the cloud's handler"
echo "$trace" | grep -q "frost_alerts" || fail "the trace does not reach the device's handler and its put"

# the way up: the cloud's to_uplink puts to the device's `outgoing` naming uplink, which puts it back up to the
# cloud's from_device through the edge; one trace at the cloud shows cloud -> edge -> device -> edge -> cloud
"$spot" put "$dev/uplink_to" --data "spot://127.0.0.1:$cloud_port/cloud/from_device" >/dev/null ||
  fail "cannot tell the device where uplink sends"
"$spot" -n cloud put pings --handler to_uplink --data "ping 1" >/dev/null || fail "put ping at the cloud"
ok=0
for _ in $(seq 100); do
  got=$("$spot" -n cloud get from_device 1 2>/dev/null | tr -d '\0')
  [ "$got" = "ping 1" ] && { ok=1; break; }
  sleep 0.1
done
[ $ok = 1 ] || fail "the device's uplink put did not come back up to the cloud (from_device 1: '$got')"
say "the device's uplink handler put 'ping 1' back up to the cloud's from_device"
trace=""
for _ in $(seq 50); do
  trace=$("$spot" -n cloud trace pings 1 2>&1)
  echo "$trace" | grep -q "put from_device#1" && break
  sleep 0.2
done
echo "$trace"
# each step below the one before, in this order: the tree goes down to the device and back up to the cloud
echo "$trace" | awk -v up="spot://127.0.0.1:$cloud_port/cloud/from_device#1" '
  BEGIN { n = split("put pings#1|start to_uplink|put spot://.*/dev/outgoing#[0-9]+ -> uplink|put outgoing#[0-9]+ -> uplink|start uplink|put " up "|put from_device#1", want, "|"); k = 1; last = -1 }
  k <= n && $0 ~ want[k] { d = match($0, /[^ ]/); if (d <= last) exit 1; last = d; k++ }
  END { exit k <= n ? 1 : 0 }' ||
  fail "the trace does not go cloud -> edge -> device -> edge -> cloud as one tree"
say "one trace: cloud -> edge -> device (uplink) -> edge -> cloud"

# a stream of puts both ways with a device reset in the middle: every acknowledged put is there afterwards, the
# edge's to the device (in its arena) and the device's to the cloud (through its outbox, kept across the reset)
acked=() upacked=()
for i in 1 2 3 4 5 6 7 8; do
  if [ $i = 5 ]; then
    echo system_reset >&3
    say "device reset (QEMU system_reset) before put $i"
  fi
  if s=$("$spot" put "$dev/greetings" --data "put $i" 2>err); then
    acked+=("$i:$s")
  else
    say "put $i not acknowledged: $(cat err)"
  fi
  if "$spot" put "$dev/outgoing" --handler uplink --data "up $i" >/dev/null 2>err; then
    upacked+=("$i")
  else
    say "put up $i not acknowledged: $(cat err)"
  fi
done
[ ${#acked[@]} -ge 6 ] || fail "only ${#acked[@]} of 8 puts were acknowledged around the reset"
[ ${#upacked[@]} -ge 6 ] || fail "only ${#upacked[@]} of 8 puts for the way up were acknowledged around the reset"
for a in "${acked[@]}"; do
  i=${a%%:*} s=${a#*:}
  got=$("$spot" get "$dev/greetings" "$s" 2>&1 | tr -d '\0')
  [ "$got" = "put $i" ] || fail "acknowledged put $i (element $s) reads back as '$got'"
done
grep -c "spotdev: node" qemu.log | grep -q 2 || fail "the device did not restart"
say "device restarted: $(grep 'spotdev: node' qemu.log | tail -1)"
say "all ${#acked[@]} acknowledged puts to the device around the reset are on the device"
missing="" up="" next=2
for _ in $(seq 100); do
  while got=$("$spot" -n cloud get from_device $next 2>/dev/null | tr -d '\0'); do
    up="$up$got"$'\n' next=$((next + 1))
  done
  missing=""
  for i in "${upacked[@]}"; do echo "$up" | grep -qx "up $i" || missing="$missing $i"; done
  [ -z "$missing" ] && break
  sleep 0.2
done
[ -z "$missing" ] || fail "acknowledged puts up$missing did not reach the cloud after the reset"
say "all ${#upacked[@]} acknowledged puts from the device around the reset reached the cloud"

# a device that is away (QEMU paused: it answers nothing): a clear time-out, the put kept in the edge's outbox,
# and delivered when the device is back
echo stop >&3
sleep 0.3
if "$spot" put "$dev/greetings" --data "queued" >/dev/null 2>err; then fail "a put to a paused device was acknowledged"; fi
say "put to the paused device: $(cat err)"
grep -q "did not answer" err && grep -q "outbox" err || fail "the error does not say the device is away and the put is queued"
echo cont >&3
ok=0
for _ in $(seq 50); do
  got=$("$spot" get "$dev/greetings" latest 2>/dev/null | tr -d '\0')
  [ "$got" = "queued" ] && { ok=1; break; }
  sleep 0.2
done
[ $ok = 1 ] || fail "the queued put did not reach the device after it came back"
grep -q "delivered 1 queued put" edge.log || fail "the edge did not report the delivery"
say "the queued put reached the device when it came back: $(grep 'delivered' edge.log | tail -1)"
say "ok"
exit 0
