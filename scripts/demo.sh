#!/usr/bin/env bash
# demo.sh: spot's main job, the media-query experiment of issue 10 (apps/vquery, IoTDI 2016): installs what is
# missing (apt: build tools, VLFeat, OpenBLAS, stb, gnuplot, and the photographs of scripts/vquery-data.sh), builds,
# builds a library of photographs, then runs `spot vquery run --quota compare` for each law: a cloud node (spotd), an
# aggregator and two devices as separate spot nodes on 127.0.0.1 with keys and access files, 30 intervals of 1 s;
# each run ends with the measured figures against the energy/billing model (the table) and the saving of the optimal
# quota theta* against the ad hoc N*mu on the same volumes. Figures (PNG, SVG) go to build/demo/<law>/ (the film's
# run: build/demo/exponential-film/).
# The platform walkthrough that used to be here is scripts/tour.sh.
# The laws run with a still camera (the physics: see below), then one exponential run with the synthetic film.
#   DEMO_LAWS="exponential uniform pareto"  DEMO_INTERVALS=30  DEMO_DATA=/var/tmp/spot-vquery-data  DEMO_FILM=1
#   (environment; DEMO_FILM=0 leaves the film's run out)
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
bash scripts/deps.sh
data=${DEMO_DATA:-/var/tmp/spot-vquery-data}
bash scripts/vquery-data.sh "$data"
echo "demo: building spot (build/release) ..."
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$(nproc)" >/dev/null
vq=$PWD/build/release/spot-vquery
out=$PWD/build/demo
mkdir -p "$out"
first=$(ls "$data/library" | head -1)
# A library left by an older spot (another file version) is refused by match: build it anew then.
if [ ! -s "$out/library.vql" ] || ! "$vq" match "$out/library.vql" "$data/library/$first" >/dev/null 2>&1; then
  echo "demo: building the library of photographs ($data/library; descriptor model trained on $data/train) ..."
  "$vq" library build --train "$data/train" --images "$data/library" --out "$out/library.vql"
fi
laws=${DEMO_LAWS:-exponential uniform pareto}
k=${DEMO_INTERVALS:-30}
# The laws run with a still camera (one library photograph, every frame the same): a query's CPU time depends on the
# frame (13 to 47 ms between the film's photographs here), so the meter can agree with the model only when the run's
# frames cost what the calibration's did. Then one run with the synthetic camera's film shows the system as it is:
# recall over many photographs, and the energy of frames that are not the calibration's.
still=$out/still
rm -rf "$still" && mkdir -p "$still"
ln -s "$data/library/$first" "$still/$first"
run_law() { # run_law LAW FIGURES_DIR_NAME CAMERA_ARGS...
  local law=$1 fig=$2 alpha=
  shift 2
  [ "$law" = pareto ] && alpha="--alpha 5"
  cmd="spot vquery run --devices 2 --intervals $k --interval-ms 1000 --dist $law $alpha --mu 16384 --rho 16384 \
--quota compare --library $out/library.vql --images $data/library $* --plot $out/$fig"
  printf '\n\033[1m$ %s\033[0m\n' "$cmd"
  # shellcheck disable=SC2086
  "$vq" run --devices 2 --intervals "$k" --interval-ms 1000 --dist "$law" $alpha --mu 16384 --rho 16384 \
    --quota compare --library "$out/library.vql" --images "$data/library" "$@" --plot "$out/$fig"
}
for law in $laws; do
  run_law "$law" "$law" --camera "$still"
done
if [ "${DEMO_FILM:-1}" = 1 ]; then
  run_law exponential exponential-film --camera synthetic
fi
echo
echo "demo finished in $(($(date +%s) - start)) s: the figures are in $out/<law>/ (energy.png, billing.png, and .svg);"
echo "apps/vquery/README.md explains the table, and scripts/tour.sh walks through the platform itself."
