#!/usr/bin/env bash
# demo.sh: spot's main job, the media-query experiment of issue 10 (apps/vquery, IoTDI 2016): installs what is
# missing (apt: build tools, VLFeat, OpenBLAS, stb, gnuplot, and the photographs of scripts/vquery-data.sh), builds,
# builds a library of photographs, then runs `spot vquery run --quota compare` for each law: a cloud node (spotd), an
# aggregator and two devices as separate spot nodes on 127.0.0.1 with keys and access files, 30 intervals of 1 s;
# each run ends with the measured figures against the energy/billing model (the table) and the saving of the optimal
# quota theta* against the ad hoc N*mu on the same volumes. Figures (PNG, SVG) go to build/demo/<law>/.
# The platform walkthrough that used to be here is scripts/tour.sh.
#   DEMO_LAWS="exponential uniform pareto"  DEMO_INTERVALS=30  DEMO_DATA=/var/tmp/spot-vquery-data  (environment)
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
if [ ! -s "$out/library.vql" ]; then
  echo "demo: building the library of photographs ($data/library; descriptor model trained on $data/train) ..."
  "$vq" library build --train "$data/train" --images "$data/library" --out "$out/library.vql"
fi
laws=${DEMO_LAWS:-exponential uniform pareto}
k=${DEMO_INTERVALS:-30}
for law in $laws; do
  alpha=
  [ "$law" = pareto ] && alpha="--alpha 5"
  cmd="spot vquery run --devices 2 --intervals $k --interval-ms 1000 --dist $law $alpha --mu 16384 --rho 16384 \
--quota compare --library $out/library.vql --images $data/library --plot $out/$law"
  printf '\n\033[1m$ %s\033[0m\n' "$cmd"
  # shellcheck disable=SC2086
  "$vq" run --devices 2 --intervals "$k" --interval-ms 1000 --dist "$law" $alpha --mu 16384 --rho 16384 \
    --quota compare --library "$out/library.vql" --images "$data/library" --plot "$out/$law"
done
echo
echo "demo finished in $(($(date +%s) - start)) s: the figures are in $out/<law>/ (energy.png, billing.png, and .svg);"
echo "apps/vquery/README.md explains the table, and scripts/tour.sh walks through the platform itself."
