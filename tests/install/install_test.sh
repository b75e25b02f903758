#!/usr/bin/env bash
# install_test.sh: spot as an installed package (issue 12). Installs the build to a temporary prefix, then moves
# the tree elsewhere (so nothing may depend on the prefix it was installed for), and checks that:
#   - the installed spot and spotd run from there with no LD_LIBRARY_PATH (RUNPATH $ORIGIN);
#   - `spot build-handler -v` compiles against the prefix's own headers, and the installed spotd runs the handler;
#   - pkg-config (spot.pc via ${pcfiledir}) gives the moved prefix's paths and builds an outside program;
#   - find_package(spot CONFIG) gives spot::spot and spot_add_handler() to an outside CMake project;
#   - the man pages, bash completion, spotd@.service (which systemd-analyze verify accepts) and sysusers.d file.
#   install_test.sh BUILD_DIR SOURCE_DIR C_COMPILER LIBDIR SANITIZE
set -euo pipefail
build=$1 src=$2 cc=$3 libdir=$4 sanitize=${5:-OFF}
if [ "$sanitize" = ON ]; then
  echo "install_test: skipped in an ASan build: the outside programs it builds cannot load an ASan libspot"
  exit 77
fi
tmp=$build/tmp/install-test.$$
rm -rf "$tmp"
mkdir -p "$tmp"
spotd_pid=
cleanup() {
  [ -n "$spotd_pid" ] && kill "$spotd_pid" 2>/dev/null && wait "$spotd_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "install_test: FAIL: $*"; exit 1; }

cmake --install "$build" --prefix "$tmp/first" >"$tmp/install.log" || { cat "$tmp/install.log"; fail "install"; }
# What the install lays out besides the programs: man pages, bash completion, the systemd unit (for the prefix
# installed to: systemd needs absolute paths) and the user it runs as.
F=$tmp/first
for f in share/man/man1/spot.1 share/man/man8/spotd.8 share/man/man7/spot-handler.7 \
  share/bash-completion/completions/spot share/bash-completion/completions/spotd lib/sysusers.d/spot.conf \
  lib/systemd/system/spotd@.service; do
  [ -s "$F/$f" ] || fail "the install has no $f"
done
unit=$F/lib/systemd/system/spotd@.service
for line in "Type=notify" "User=spot" "NoNewPrivileges=yes" "ProtectSystem=strict" "StateDirectory=spot/%i" \
  "ExecStart=$F/bin/spotd -n /var/lib/spot/%i \$SPOTD_OPTS"; do
  grep -qxF "$line" "$unit" || fail "spotd@.service has no line '$line'"
done
if command -v systemd-analyze >/dev/null; then
  mkdir "$tmp/units"
  cp "$unit" "$tmp/units/spotd@home.service"
  MANPATH=$F/share/man systemd-analyze verify "$tmp/units/spotd@home.service" ||
    fail "systemd-analyze verify spotd@home.service"
else
  echo "install_test: no systemd-analyze here: the unit's syntax is not verified"
fi
mv "$tmp/first" "$tmp/moved"
P=$tmp/moved
export -n LD_LIBRARY_PATH 2>/dev/null || true
unset LD_LIBRARY_PATH PKG_CONFIG_PATH SPOT_DIR
cd "$tmp"

# The installed programs run from the moved prefix and load its libspot.
"$P/bin/spot" --version | grep -q "^spot " || fail "installed spot --version"
"$P/bin/spotd" --version | grep -q "^spotd " || fail "installed spotd --version"
lib=$(LD_TRACE_LOADED_OBJECTS=1 "$P/bin/spot" | awk '/libspot/ { print $3 }')
[ -n "$lib" ] && [ "$(realpath "$lib")" = "$(realpath "$P/$libdir/libspot.so.0")" ] ||
  fail "installed spot does not load the prefix's libspot but '$lib'"
S="$P/bin/spot -n $tmp/ns"
$S init >/dev/null
$S create greetings --size 32 --history 100
[ "$($S put greetings --data hi)" = 1 ] || fail "installed spot put"

# build-handler uses the headers of its own (moved) prefix, and the installed spotd runs the handler.
$S build-handler -v "$src/examples/hello/hello.c" 2>"$tmp/bh.err" >/dev/null || { cat "$tmp/bh.err"; fail "build-handler"; }
grep -q "headers from this spot's install prefix: .* -I$P/include " "$tmp/bh.err" ||
  fail "build-handler did not use $P/include: $(cat "$tmp/bh.err")"
"$P/bin/spotd" -n "$tmp/ns" --mode thread --quiet >"$tmp/spotd.out" 2>&1 &
spotd_pid=$!
$S put greetings --handler hello --data world >/dev/null
for _ in $(seq 100); do
  $S events --json | grep -q '"type":"end"' && break
  sleep 0.1
done
$S events --json | grep -q '"type":"end"' || fail "the installed spotd did not run hello: $($S events)"
kill "$spotd_pid"
wait "$spotd_pid" || true
spotd_pid=

# pkg-config: the moved prefix, found from spot.pc's own place.
export PKG_CONFIG_PATH=$P/$libdir/pkgconfig
inc=$(pkg-config --cflags-only-I spot | tr ' ' '\n' | grep -- "-I" | head -1)
[ "$(realpath "${inc#-I}")" = "$(realpath "$P/include")" ] || fail "pkg-config --cflags spot gives '$inc', not $P/include"
# shellcheck disable=SC2046
"$cc" -std=c11 "$src/tests/install/app.c" $(pkg-config --cflags --libs spot) -Wl,-rpath,"$P/$libdir" \
  -o "$tmp/app-pc" || fail "building with pkg-config"
"$tmp/app-pc" "$tmp/ns-pc" | grep -q "^ok 1$" || fail "the pkg-config program"
unset PKG_CONFIG_PATH

# find_package(spot CONFIG): spot::spot and spot_add_handler() in a project of one's own.
cmake -S "$src/tests/install/project" -B "$tmp/proj" -DCMAKE_PREFIX_PATH="$P" -DCMAKE_C_COMPILER="$cc" \
  -DHELLO_SOURCE="$src/examples/hello/hello.c" >"$tmp/proj.log" 2>&1 || { cat "$tmp/proj.log"; fail "find_package"; }
cmake --build "$tmp/proj" >>"$tmp/proj.log" 2>&1 || { cat "$tmp/proj.log"; fail "building the CMake project"; }
"$tmp/proj/app" "$tmp/ns-cmake" | grep -q "^ok 1$" || fail "the find_package program"
$S build-handler "$tmp/proj/hello_outside.so" | grep -q "registered: hello" || fail "installing the spot_add_handler object"
echo "install_test: ok (installed to one prefix, ran from another: $P)"
