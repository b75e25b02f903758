#!/usr/bin/env bash
# readme_test.sh: runs the README's shell examples as a newcomer would type them. It extracts every fenced block
# opened with ```sh readme-test (```sh readme-test net: only in a build with the network; mqtt: only in a build
# with the MQTT bridge and with mosquitto installed, else said and left out), in order, into one
# script, and runs it with `set -e` in a scratch directory (a ```sh block without the mark must say
# ```sh readme-skip: REASON, or the test fails): the spot and spotd of this build first on PATH,
# /tmp/ in the examples replaced by the scratch directory, the example ports 7401 and 1883 by free ones,
# /usr/sbin on PATH (where Debian puts mosquitto, as root's PATH has it), `examples/` linked
# from the source tree. Every line must succeed; daemons the examples start in the background are stopped at the
# end. Fails naming the line that failed.
#   readme_test.sh SOURCE_DIR BIN_DIR TMP_DIR HAVE_NET [HAVE_MQTT]
set -uo pipefail
src=$1 bin=$2 tmpbase=$3 net=${4:-1} mqtt=${5:-0}
export PATH=$PATH:/usr/sbin:/sbin
if [ "$mqtt" = 1 ] && [ -n "${SPOT_TEST_QUICK:-}" ]; then # the sanitizer builds: tests/bridge covers the bridge
  echo "readme_test: SPOT_TEST_QUICK: the MQTT block is left out"
  mqtt=0
fi
if [ "$mqtt" = 1 ] && ! { command -v mosquitto && command -v mosquitto_pub; } >/dev/null; then
  echo "readme_test: mosquitto is not installed (scripts/deps.sh): the MQTT block is left out"
  mqtt=0
fi
mkdir -p "$tmpbase"
scratch=$(mktemp -d "$tmpbase/readme-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
port=$((20000 + ($$ * 17 + 3) % 20000))
mqtt_port=$((port + 5))
mkdir "$scratch/work" "$scratch/tmp"
ln -s "$src/examples" "$scratch/work/examples"

# every shell block of the README is either run here or says why not: ```sh readme-skip: REASON
untagged=$(awk '/^```(sh|bash|shell)[[:space:]]*$/ { print NR }' "$src/README.md")
if [ -n "$untagged" ]; then
  echo "readme_test: README.md lines $(echo $untagged | tr ' ' ,) open shell blocks that are neither"
  echo "  \`\`\`sh readme-test (run by this test) nor \`\`\`sh readme-skip: REASON (why a test cannot run them)"
  exit 1
fi
skipped=$(grep -c '^```sh readme-skip: ' "$src/README.md")

awk -v net="$net" -v mqtt="$mqtt" '
  /^```sh readme-test( net| mqtt)?$/ { on = ($3 == "" || ($3 == "net" && net == 1) || ($3 == "mqtt" && mqtt == 1)); n++; next }
  /^```/ { on = 0; next }
  on { print }
' "$src/README.md" | sed -e "s|/tmp/|$scratch/tmp/|g" -e "s|7401|$port|g" -e "s|1883|$mqtt_port|g" >"$scratch/examples.sh"
lines=$(grep -cv '^\s*$' "$scratch/examples.sh")
[ "$lines" -ge 10 ] || { echo "readme_test: found only $lines example lines in README.md"; exit 1; }

{
  echo 'set -e'
  echo 'trap '\''s=$?; kill $(jobs -p) 2>/dev/null; wait; exit $s'\'' EXIT'
  echo 'trap '\''echo "readme_test: FAILED at README line: $BASH_COMMAND" >&2'\'' ERR'
  cat "$scratch/examples.sh"
} >"$scratch/run.sh"
cd "$scratch/work" || exit 1
env -u SPOT_DIR -u SPOT_KEY -u SPOT_NODE_KEY HOME="$scratch" PATH="$bin:$PATH" SPOT_TIMEOUT_MS=20000 \
  bash "$scratch/run.sh" >"$scratch/out" 2>&1
rc=$?
if [ $rc -ne 0 ]; then
  cat "$scratch/out"
  echo "readme_test: the README's examples failed (exit $rc); the script was:"
  cat -n "$scratch/examples.sh"
  exit 1
fi
grep -a -q "^deployed " "$scratch/out" || [ "$net" != 1 ] || { cat "$scratch/out"; echo "readme_test: no deploy"; exit 1; }
echo "readme_test: $lines example lines of README.md ran; $skipped blocks say why they cannot run here"
