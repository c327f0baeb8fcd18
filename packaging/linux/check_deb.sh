#!/bin/sh
# Install a Greenpair .deb, use it as a user would, remove it, and check nothing is left.
# Runs the installed command with a bare environment (no venv, no PYTHONPATH, fresh HOME).
# Needs root, Xvfb and ImageMagick's `import` (for the screenshots).
#
# Usage: check_deb.sh DEB OUTDIR [MODELS_DIR]
#   MODELS_DIR: a provisioned models folder to link in (else `models pull` downloads).
set -eu
deb=$1
out=$2
models=${3:-}
mkdir -p "$out"
tmp=$(mktemp -d)
home=$tmp/home
mkdir -p "$home"
run() {
  echo "\$ $*"
  env -i HOME="$home" PATH=/usr/bin:/bin LANG=C.UTF-8 QT_QPA_PLATFORM=offscreen "$@"
}
# The window on the virtual display, from folder $1; prints its pid.
gui() {
  (cd "$1" && exec env -i HOME="$home" PATH=/usr/bin:/bin LANG=C.UTF-8 DISPLAY=:97 \
    QT_QPA_PLATFORM=xcb greenpair gui) >>"$tmp/gui.log" 2>&1 &
  echo $!
}

# dpkg -i does not fetch dependencies: where some are missing (a fresh system), it stops
# and apt installs them and finishes the configuration, as for any downloaded .deb.
if ! dpkg -i "$deb"; then
  DEBIAN_FRONTEND=noninteractive apt-get install -f -y -q --no-install-recommends
fi
dpkg -L greenpair >"$tmp/files"
echo "installed: $(wc -l <"$tmp/files") paths; $(du -sh /opt/greenpair | cut -f1) in /opt/greenpair"
command -v greenpair

# The window's first run, before any model: the welcome page.
# -noreset: on a bare system the reset after the first window closes can end the server.
Xvfb :97 -screen 0 1280x800x24 -nolisten tcp -noreset >/dev/null 2>&1 &
xvfb=$!
sleep 2
pid=$(gui "$tmp")
sleep 25
DISPLAY=:97 import -window root "$out/deb-welcome.png"
kill "$pid" 2>/dev/null || true

mkdir -p "$home/.local/share/greenpair"
if [ -n "$models" ]; then
  # The welcome page made an empty models folder: the provisioned one takes its place.
  rm -rf "$home/.local/share/greenpair/models"
  ln -s "$models" "$home/.local/share/greenpair/models"
fi
run greenpair --version
run greenpair doctor || true
run greenpair models pull --yes smollm2-135m
repo=$tmp/repo
mkdir -p "$repo/shop"
cat >"$repo/shop/cart.py" <<'PY'
class Cart:
    """A shopping cart."""

    def __init__(self):
        self.items = []

    def add_item(self, name, price, quantity=1):
        self.items.append((name, price, quantity))

    def total_price(self):
        """The total price of every item in the cart."""
        return sum(price * quantity for _, price, quantity in self.items)
PY
git -C "$repo" init -q && git -C "$repo" add -A
git -C "$repo" -c user.name=t -c user.email=t@example.invalid commit -qm init
run greenpair index --repo "$repo"
run greenpair search --repo "$repo" "total price of the cart"
run greenpair ask --repo "$repo" --model smollm2-135m "Where is the total price computed?"

# The window with a model: the chat.
run greenpair models use smollm2-135m
pid=$(gui "$repo")
sleep 30
DISPLAY=:97 import -window root "$out/deb-window.png"
kill "$pid" 2>/dev/null || true
sleep 2
kill "$xvfb" 2>/dev/null || true
cp "$tmp/gui.log" "$out/deb-gui.log"

dpkg -r greenpair
left=0
while read -r path; do
  case $path in /. | /opt | /usr | /usr/bin | /usr/share | /usr/share/* ) [ -d "$path" ] && continue ;; esac
  if [ -e "$path" ] || [ -L "$path" ]; then echo "left behind: $path"; left=1; fi
done <"$tmp/files"
[ -e /opt/greenpair ] && { echo "left behind: /opt/greenpair"; left=1; }
echo "after dpkg -r: user data kept in $home/.local/share/greenpair: $(ls "$home/.local/share/greenpair" | tr '\n' ' ')"
[ "$left" = 0 ] && echo "dpkg -r left nothing behind outside the user's data directory"
exit "$left"
