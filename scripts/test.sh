#!/usr/bin/env bash
# test.sh: installs what is missing (apt), builds spot three times (normal; with ASan+UBSan; without the network,
# -DSPOT_NET=OFF, which proves core, store, dispatch and model build without libzmq), runs the tests of each build
# with ctest, and ends with one line "N passed, N failed" over all runs. Exit status 0 only if all
# passed. This is the README's test command; .ci/run calls it. Warnings are errors here (-DSPOT_WERROR=ON), as in
# CI; a user's build only warns.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh || { echo "test.sh: installing dependencies failed"; echo "0 passed, 1 failed"; exit 1; }

jobs=$(nproc 2>/dev/null || echo 2)
passed=0
failed=0
skipped=0

# run_build DIR LABEL [cmake options...]: configure, build and ctest one build directory.
run_build() {
  local dir=$1 label=$2
  shift 2
  echo "== $label build ($dir)"
  if ! cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSPOT_WERROR=ON "$@" >"$dir.configure.log" 2>&1; then
    cat "$dir.configure.log"
    failed=$((failed + 1))
    return
  fi
  if ! cmake --build "$dir" -j"$jobs" >"$dir.build.log" 2>&1; then
    grep -E "error|Error" "$dir.build.log" | head -40
    failed=$((failed + 1))
    return
  fi
  local out="$dir.ctest.log"
  ctest --test-dir "$dir" --output-on-failure -j"$jobs" --timeout 600 2>&1 | tee "$out"
  local p f
  p=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .* +Passed' "$out")
  # A test that exits 77 (SKIP_RETURN_CODE) prints "***Skipped": it said why; it is neither passed nor failed.
  f=$(grep -E '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*(\*\*\*|Failed|Timeout|Not Run)' "$out" | grep -cv '\*\*\*Skipped')
  skipped=$((skipped + $(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*\*\*\*Skipped' "$out")))
  if ! grep -qE '^[0-9]+% tests passed' "$out"; then
    f=$((f + 1)) # ctest itself did not finish
  fi
  passed=$((passed + p))
  failed=$((failed + f))
}

mkdir -p build
run_build build/release "normal"
# The sanitizer build runs the same tests with ASan+UBSan; SPOT_TEST_QUICK trims the longest loops.
SPOT_TEST_QUICK=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_build build/asan "ASan+UBSan" -DSPOT_SANITIZE=ON -DCMAKE_C_COMPILER=clang

# Without the network: the same library minus src/net and libzmq; the tests that need no network run (quick loops).
SPOT_TEST_QUICK=1 run_build build/nonet "no network (SPOT_NET=OFF)" -DSPOT_NET=OFF

[ "$skipped" -gt 0 ] && echo "($skipped skipped: each says why above)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
