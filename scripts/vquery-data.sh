#!/usr/bin/env bash
# vquery-data.sh DEST: the photographs of the media-query application (apps/vquery), from Debian packages.
# Installs mate-backgrounds and lomiri-wallpapers with apt if they are missing (root needed then), and lays out
#   DEST/library/  symlinks to the photographs the library is built from (lomiri's and mate's nature photographs)
#   DEST/train/    symlinks to disjoint images the descriptor model is trained on (mate's abstract and desktop
#                  pictures, lomiri's warty-final-ubuntu.png)
# Nothing is copied and nothing is ever committed; licences: apps/vquery/README.md. Idempotent: DEST's two folders
# are laid anew each time. Prints the two folders and their counts. With VQ_DATA_NO_INSTALL=1 a missing package is an
# error instead of an install (the tests use this).
set -euo pipefail
if [ $# -ne 1 ] || [ "$1" = "--help" ]; then
  echo "usage: scripts/vquery-data.sh DEST   (makes DEST/library and DEST/train)" >&2
  [ $# -eq 1 ] && exit 0 || exit 2
fi
dest=$1
pkgs=(mate-backgrounds lomiri-wallpapers)
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
link_all "$dest/train" "$bg"/mate/abstract/* "$bg"/mate/desktop/* "$bg"/warty-final-ubuntu.png
rm -f "$dest/train/Elephants_3840x2160.jpg" "$dest/train/Elephants_5640x3172.jpg" # Elephants.jpg at larger sizes
nl=$(find "$dest/library" -type l | wc -l)
nt=$(find "$dest/train" -type l | wc -l)
if [ "$nl" -lt 20 ] || [ "$nt" -lt 10 ]; then
  echo "vquery-data: only $nl library and $nt training images under $bg: reinstall ${pkgs[*]}" \
    "(apt-get install --reinstall ${pkgs[*]})" >&2
  exit 1
fi
echo "vquery-data: $dest/library ($nl photographs), $dest/train ($nt images)"
