#!/usr/bin/env bash
# deps.sh: installs, with apt, the Debian 12 packages spot needs to build and test, skipping those already there.
# Run as root (CI and a fresh machine are). Quiet unless something is installed.
set -euo pipefail
pkgs=(build-essential cmake pkg-config clang libclang-rt-14-dev libgsl-dev gnuplot-nox procps strace libzmq3-dev libsodium-dev
  libvlfeat-dev libopenblas-dev libstb-dev
  gcc-arm-none-eabi libnewlib-arm-none-eabi picolibc-arm-none-eabi qemu-system-arm # firmware (ports/mps2-an385), QEMU
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user # the aarch64_* tests: a cross build run under qemu-aarch64
  libzmq3-dev:arm64 libsodium-dev:arm64 # its network (Debian multiarch: beside the amd64 ones, same versions)
  mosquitto mosquitto-clients libmosquitto-dev nats-server libnats-dev # the bridges, and the real servers their tests start
  libmicrohttpd-dev curl # spotd --metrics (Prometheus over HTTP), and the scrape in its test
  mate-backgrounds lomiri-wallpapers plasma-workspace-wallpapers) # the last three: the vquery tests' photographs
# (library and training sets; scripts/vquery-data.sh lays them out)
# the :arm64 packages need the architecture in dpkg (multiarch); adding it once is enough
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  dpkg --add-architecture arm64
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
