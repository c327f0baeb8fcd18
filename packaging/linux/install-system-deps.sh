#!/usr/bin/env bash
# Install the Debian packages listed in apt-packages.txt, once. Idempotent: does nothing
# when they are all installed. Needs root (CI runs as root); otherwise prints the command.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mapfile -t pkgs < <(sed -e 's/#.*//' -e '/^\s*$/d' "$here/apt-packages.txt")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "greenpair setup: not a Debian/Ubuntu system; install the equivalents of: ${missing[*]}" >&2
  echo "(only the GUI tests need them; the app itself runs without)" >&2
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "greenpair setup: these system packages are missing: ${missing[*]}" >&2
  echo "Install them with:  sudo apt-get install -y ${missing[*]}" >&2
  echo "(then run make again; the GUI tests need them)" >&2
  exit 0
fi
echo "greenpair setup: installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
