#!/bin/sh
# Install the Debian packages listed in apt-packages.txt, once. Idempotent: does nothing
# when they are all installed. Needs root (CI runs as root); otherwise prints the command.
# POSIX sh (dash, bash 3.2 on macOS): on other systems it only says what to install.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
pkgs=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/apt-packages.txt" | tr '\n' ' ')
if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
  case $(uname -s) in
    Darwin) echo "greenpair setup: macOS: no system packages needed (Xcode command line tools and CMake build llama.cpp: xcode-select --install; brew install cmake)" >&2 ;;
    *) echo "greenpair setup: not a Debian/Ubuntu system; install the equivalents of: $pkgs" >&2
       echo "(only the GUI tests need them; the app itself runs without)" >&2 ;;
  esac
  exit 0
fi
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
missing=${missing# }
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "greenpair setup: these system packages are missing: $missing" >&2
  echo "Install them with:  sudo apt-get install -y $missing" >&2
  echo "(then run make again; the GUI tests need them)" >&2
  exit 0
fi
echo "greenpair setup: installing system packages: $missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086 # one word per package
apt-get install -y -qq --no-install-recommends $missing >/dev/null
