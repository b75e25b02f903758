#!/bin/sh
# qemu-aarch64-test.sh DIR QEMU TEST: runs tests/TEST of the aarch64 cross build in DIR under qemu-user (QEMU is
# the qemu-aarch64 program), for the host build's aarch64_* ctest tests (cmake/aarch64.cmake). The test starts
# `spot` and `spotd` as programs: they are aarch64 binaries too, so SPOT_BIN and SPOTD_BIN name small wrappers that
# run them under the same qemu. Inside, the test runs with SPOT_TEST_QUICK=1 (its shorter loops: qemu is slower).
# Exit 77 (a skip) when SPOT_TEST_QUICK is set here already: the sanitizer and no-network builds gain nothing
# from a second emulated run.
set -eu
dir=$1 qemu=$2 test=$3
if [ -n "${SPOT_TEST_QUICK:-}" ] && [ "$SPOT_TEST_QUICK" != 0 ]; then
  echo "skip: aarch64_$test runs the aarch64 build under qemu-aarch64; skipped when SPOT_TEST_QUICK is set"
  exit 77
fi
# The loader and libc must come from one glibc. With Debian's arm64 multiarch libc installed (libc6:arm64, pulled in by
# libzmq3-dev:arm64 for the network tests), the loader of the cross sysroot would find the multiarch libc.so.6
# through /etc/ld.so.cache, a different glibc build, and fork() then hangs in the child: so use the multiarch tree
# whole (-L /) when it is there, and the cross sysroot (libc6-arm64-cross) only when it is not.
sysroot=/usr/aarch64-linux-gnu
if [ -e /lib/ld-linux-aarch64.so.1 ] && [ -e /usr/lib/aarch64-linux-gnu/libc.so.6 ]; then
  sysroot=/
fi
bin=$dir/qemu-bin
mkdir -p "$bin" "$dir/tmp"
# wrapper PATH PROGRAM: PATH runs the aarch64 PROGRAM under the same qemu, written whole under a temporary name and
# then renamed, so that tests running in parallel never see half a wrapper
wrapper() {
  tmp=$(mktemp "$(dirname "$1")/.wrap.XXXXXX")
  printf '#!/bin/sh\nexec "%s" -L "%s" "%s" "$@"\n' "$qemu" "$sysroot" "$2" >"$tmp"
  chmod 755 "$tmp"
  mv -f "$tmp" "$1"
}
for b in spot spotd; do
  wrapper "$bin/$b" "$dir/$b"
done
# tests find the examples built beside spotd as $(dirname $SPOTD_BIN)/examples: handler objects as they are, the
# example programs (frost_replay) through wrappers
mkdir -p "$bin/examples"
for f in "$dir"/examples/*; do
  [ -e "$f" ] || continue
  name=${f##*/}
  if [ "${name%.so}" != "$name" ]; then
    ln -sfn "$f" "$bin/examples/.ln.$$.$name"
    mv -fT "$bin/examples/.ln.$$.$name" "$bin/examples/$name"
  elif [ -f "$f" ] && [ -x "$f" ]; then
    wrapper "$bin/examples/$name" "$f"
  fi
done
echo "aarch64_$test: $dir/tests/$test under $qemu -L $sysroot (robust mutexes do not work under qemu-user; the" \
  "store does not use them, so no test is skipped for it)"
CC=aarch64-linux-gnu-gcc SPOT_BIN=$bin/spot SPOTD_BIN=$bin/spotd SPOT_TEST_TMP=$dir/tmp SPOT_TEST_QUICK=1 \
  exec "$qemu" -L "$sysroot" "$dir/tests/$test"
