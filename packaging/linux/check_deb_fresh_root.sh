#!/bin/sh
# check_deb.sh inside a fresh Debian root: nothing of this machine (its Python, venv,
# libraries, fonts, home folder) is visible, so the package's own files and declared
# dependencies are all there is. The root is a debootstrap "minbase" (about 150 MB), made
# once and kept at $ROOT; each run installs the .deb's dependencies with apt (the test
# that `Depends:` is complete) and the check tools (Xvfb, ImageMagick), then runs
# check_deb.sh in a private mount namespace.
#
# Usage (as root): check_deb_fresh_root.sh DEB OUTDIR [MODELS_DIR]
#   ROOT=/var/tmp/greenpair-fresh-root  where the fresh root is kept
#   SUITE=bookworm                       the Debian release it holds
set -eu
deb=$(realpath "$1")
out=$2
models=${3:-}
root=${ROOT:-/var/tmp/greenpair-fresh-root}
suite=${SUITE:-bookworm}
here=$(cd "$(dirname "$0")" && pwd)

if [ ! -x "$root/usr/bin/apt-get" ]; then
  command -v debootstrap >/dev/null || { echo "needs debootstrap (apt-get install debootstrap)" >&2; exit 2; }
  debootstrap --variant=minbase "$suite" "$root" http://deb.debian.org/debian
fi
# A dpkg -r of an earlier run may have failed half-way: start from no Greenpair.
chroot "$root" dpkg --purge greenpair >/dev/null 2>&1 || true
cp /etc/resolv.conf "$root/etc/resolv.conf"
rm -rf "$root/check"
mkdir -p "$root/check/out" "$root/models"
cp "$deb" "$root/check/greenpair.deb"
cp "$here/check_deb.sh" "$root/check/check_deb.sh"
chroot "$root" apt-get update -q >/dev/null
# The check's own tools, not the package's dependencies (those come from its Depends).
chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  xvfb xauth imagemagick procps >/dev/null
inside=/check/out
status=0
unshare -m sh -eu -c "
  mount -t proc proc '$root/proc'
  mount -t tmpfs tmpfs '$root/tmp'
  if [ -n '$models' ]; then mount --bind '$models' '$root/models'; fi
  chroot '$root' env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    sh /check/check_deb.sh /check/greenpair.deb $inside ${models:+/models}
" || status=$?
mkdir -p "$out"
cp -r "$root/check/out/." "$out/"
exit $status
