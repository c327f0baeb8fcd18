#!/bin/sh
# check_deb.sh inside a fresh Debian root: nothing of this machine (its Python, venv,
# libraries, fonts, home folder) is visible, so the package's own files and declared
# dependencies are all there is. A debootstrap "minbase" (about 150 MB) is made once and
# kept at $ROOT.base; each run copies it to $ROOT, so every run starts from the same fresh
# system: the .deb's dependencies come from apt through its `Depends:` (the test that the
# line is complete), the check tools (Xvfb, ImageMagick) are added, and check_deb.sh runs
# in a private mount namespace.
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

case $root in
  / | /usr* | /bin* | /etc* | "") echo "ROOT=$root: refusing; pick a folder of its own" >&2; exit 2 ;;
esac
base=$root.base
if [ ! -x "$base/usr/bin/apt-get" ]; then
  command -v debootstrap >/dev/null || { echo "needs debootstrap (apt-get install debootstrap)" >&2; exit 2; }
  rm -rf "$base"
  debootstrap --variant=minbase "$suite" "$base" http://deb.debian.org/debian
fi
rm -rf "$root"
cp -a "$base" "$root"
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
