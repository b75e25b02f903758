#!/usr/bin/env bash
# vquery-data.sh DEST: the photographs of the media-query application (apps/vquery), from Debian packages.
# Installs mate-backgrounds, lomiri-wallpapers and plasma-workspace-wallpapers with apt if they are missing (root
# needed then), and lays out
#   DEST/library/  symlinks to the photographs the library is built from (lomiri's and mate's nature photographs)
#   DEST/train/    symlinks to disjoint photographs the descriptor model (PCA, k-means centres) is trained on: the 11
#                  photographs among Plasma's wallpapers, named plasma-NAME.jpg (one size of each; Plasma's other
#                  wallpapers are drawings and renders, which trained a model that recalled less: apps/vquery/README.md)
# Nothing is copied and nothing is ever committed; licences: apps/vquery/README.md. Idempotent: DEST's two folders
# are laid anew each time. Prints the two folders and their counts. With VQ_DATA_NO_INSTALL=1 a missing package is an
# error instead of an install (the tests use this).
set -euo pipefail
if [ $# -ne 1 ] || [ "$1" = "--help" ]; then
  echo "usage: scripts/vquery-data.sh DEST   (makes DEST/library and DEST/train)" >&2
  [ $# -eq 1 ] && exit 0 || exit 2
fi
dest=$1
pkgs=(mate-backgrounds lomiri-wallpapers plasma-workspace-wallpapers)
bg=/usr/share/backgrounds
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "${VQ_DATA_NO_INSTALL:-0}" = 1 ]; then
    echo "vquery-data: the Debian package(s) ${missing[*]} are not installed: run scripts/vquery-data.sh DIR as root" \
      "(or apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "vquery-data: installing ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "vquery-data: the package(s) ${missing[*]} are missing and installing them needs root: run" \
      "apt-get install ${missing[*]} as root" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || true
  for p in "${missing[@]}"; do
    if ! apt-get install -y -qq --no-install-recommends "$p" >/dev/null; then
      echo "vquery-data: cannot install the Debian package $p (check apt's sources: it is in Debian 12 main)" >&2
      exit 1
    fi
  done
fi

link_all() { # link_all DIR FILE...: one symlink per existing file
  local d=$1
  shift
  for f in "$@"; do
    [ -f "$f" ] && ln -sf "$f" "$d/$(basename "$f")"
  done
  return 0
}
mkdir -p "$dest"
rm -rf "$dest/library" "$dest/train"
mkdir -p "$dest/library" "$dest/train"
shopt -s nullglob
link_all "$dest/library" "$bg"/*.jpg "$bg"/mate/nature/*.jpg
# Plasma's photographs: each wallpaper folder holds one picture at several sizes (most of them symlinks); the
# 2560x1600 one, which every one of these has, is linked.
plasma_photos=(BytheWater ColdRipple ColorfulCups DarkestHour EveningGlow FallenLeaf Grey Kite OneStandsOut Path
  summer_1am)
for w in "${plasma_photos[@]}"; do
  f=/usr/share/wallpapers/$w/contents/images/2560x1600.jpg
  [ -f "$f" ] && ln -sf "$f" "$dest/train/plasma-$w.jpg"
done
nl=$(find "$dest/library" -type l | wc -l)
nt=$(find "$dest/train" -type l | wc -l)
if [ "$nl" -lt 20 ] || [ "$nt" -lt ${#plasma_photos[@]} ]; then
  echo "vquery-data: only $nl library photographs under $bg and $nt training photographs under" \
    "/usr/share/wallpapers: reinstall ${pkgs[*]}" \
    "(apt-get install --reinstall ${pkgs[*]})" >&2
  exit 1
fi
echo "vquery-data: $dest/library ($nl photographs), $dest/train ($nt images)"
