"""A virtual X desktop for the ``x11`` tests: Xvfb, a tray host, xdotool helpers.

``Xvfb -displayfd`` picks a free display number itself. Every process started here is
ended by the fixture that started it. Under ``CI=true`` a missing tool fails the test
(it must run there); elsewhere it skips with the package to install.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PACKAGES = {"Xvfb": "xvfb", "xdotool": "xdotool", "trayer": "trayer", "xwininfo": "x11-utils",
            "xclip": "xclip", "import": "imagemagick", "xprop": "x11-utils"}
T = TypeVar("T")


def require_tools(*tools: str) -> None:
    """Fail (CI) or skip (elsewhere) when a command-line tool is missing."""
    missing = [t for t in tools if shutil.which(t) is None]
    if not missing:
        return
    pkgs = " ".join(sorted({PACKAGES.get(t, t) for t in missing}))
    msg = f"missing {', '.join(missing)}: apt-get install -y {pkgs} (packaging/linux/apt-packages.txt)"
    if IN_CI:
        pytest.fail(msg)
    pytest.skip(msg)


def wait_for(predicate: Callable[[], T | None], timeout: float = 10.0,
             interval: float = 0.05, what: str = "condition") -> T:
    """Poll ``predicate`` (an external process's state) until it returns a truthy value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


@dataclass
class XDisplay:
    """A running virtual X server."""

    name: str  # ":N"
    env: dict[str, str]  # os.environ with DISPLAY (and Qt's xcb), without Wayland/D-Bus

    def run(self, *args: str, check: bool = True, timeout: float = 10.0) -> str:
        """Run an X tool on this display; its stdout."""
        done = subprocess.run(args, env=self.env, capture_output=True, text=True,
                              timeout=timeout, check=False)
        if check and done.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr}")
        return done.stdout

    def xdotool(self, *args: str, check: bool = True) -> str:
        """Run ``xdotool ARGS``."""
        return self.run("xdotool", *args, check=check)

    def find_windows(self, name: str, *, visible: bool = True) -> list[str]:
        """Ids of the windows whose title matches the regex ``name``."""
        args = ["search", *(["--onlyvisible"] if visible else []), "--name", name]
        return self.xdotool(*args, check=False).split()

    def tree(self) -> str:
        """``xwininfo -root -tree``."""
        return self.run("xwininfo", "-root", "-tree")

    def screenshot(self, path: os.PathLike[str] | str, *, crop: str | None = None,
                   scale: int = 100) -> None:
        """Save the screen as PNG (``crop``: ImageMagick geometry ``WxH+X+Y``; ``scale``: %)."""
        args = ["import", "-window", "root"]
        if crop:
            args += ["-crop", crop, "+repage"]
        if scale != 100:
            args += ["-filter", "point", "-resize", f"{scale}%"]
        self.run(*args, str(path), timeout=30)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@contextmanager
def xvfb(size: str = "1280x800x24") -> Iterator[XDisplay]:
    """Start ``Xvfb`` on a free display; stop it on exit."""
    require_tools("Xvfb", "xdotool", "xwininfo")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", size, "-nolisten", "tcp",
         "-noreset"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd, "rb") as pipe:
            number = pipe.readline().strip().decode()
        if not number:
            raise AssertionError(f"Xvfb did not start: {proc.stderr.read().decode()}")  # type: ignore[union-attr]
        env = {k: v for k, v in os.environ.items()
               if k not in {"WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "XDG_SESSION_TYPE"}}
        env["DISPLAY"] = f":{number}"
        env["QT_QPA_PLATFORM"] = "xcb"  # Qt clients started here use this display
        display = XDisplay(f":{number}", env)
        wait_for(lambda: display.run("xwininfo", "-root", check=False), what="Xvfb")
        yield display
    finally:
        _stop(proc)


@contextmanager
def tray_host(display: XDisplay) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``trayer`` (a system-tray host) on ``display``; stop it on exit."""
    require_tools("trayer")
    proc = subprocess.Popen(
        ["trayer", "--SetDockType", "true", "--edge", "top", "--align", "right",
         "--widthtype", "request", "--height", "28", "--transparent", "true", "--alpha", "0",
         "--tint", "0x2b2b2b"],
        env=display.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: '"panel"' in display.tree(), what="the trayer panel")
        yield proc
    finally:
        _stop(proc)


class GreenpairApp:
    """The real Greenpair (``python -m greenpair gui``) running on a virtual display.

    Started with ``GREENPAIR_TEST_HOOKS=1``, so it records its popup and tray state as
    JSON lines that the test reads (``events``/``wait_event``).

    Args:
        display: The X display.
        home: Its ``GREENPAIR_HOME``.
        tmp: A scratch directory (XDG config, log file).
    """

    def __init__(self, display: XDisplay, home: Path, tmp: Path) -> None:
        self.home = home
        self.env = {**display.env, "GREENPAIR_HOME": str(home), "QT_QPA_PLATFORM": "xcb",
                    "GREENPAIR_TEST_HOOKS": "1", "XDG_CONFIG_HOME": str(tmp / "xdg-config"),
                    "PYTHONFAULTHANDLER": "1"}
        self.log_path = tmp / "greenpair-gui.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str) -> str:
        """Run ``greenpair ARGS`` with this app's environment."""
        done = subprocess.run([sys.executable, "-m", "greenpair", *args], env=self.env,
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start(self, *args: str, ready: bool = True, timeout: float = 60) -> dict[str, Any]:
        """Start ``greenpair gui ARGS``; wait until its tray and hotkey are installed."""
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "greenpair", "gui", *args],
                                         env=self.env, stdout=log, stderr=log)
        if not ready:
            return {}
        return self.wait_event("desktop_ready", timeout=timeout)

    def log(self) -> str:
        """What the app printed."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def events(self) -> list[dict[str, Any]]:
        """The hook events so far."""
        path = self.home / "test-hooks" / "popup.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def wait_event(self, *names: str, after: int = 0, timeout: float = 60,
                   post_mortem: bool = True) -> dict[str, Any]:
        """The first event among ``names`` at index ``after`` or later (fails if the app
        died or the popup reported an error). A wait that times out ends the app and says
        where its threads were, unless ``post_mortem`` is False (a wait that is retried)."""

        def found() -> dict[str, Any] | None:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"Greenpair exited ({self.proc.returncode}):\n{self.log()}")
            for event in self.events()[after:]:
                if event["event"] in names:
                    return event
                if event["event"] == "error" and "error" not in names:
                    raise AssertionError(f"the popup failed: {event['text']}")
            return None

        try:
            return wait_for(found, timeout=timeout, interval=0.02, what=f"the {names} event")
        except AssertionError as exc:
            if not post_mortem or not str(exc).startswith("timed out"):
                raise
            raise AssertionError(f"{exc}\n{self._post_mortem(after)}") from None

    def _post_mortem(self, after: int) -> str:
        """The events since ``after`` and the app's log, with every thread's stack: a
        timed-out wait ends the app with SIGABRT, which faulthandler reports."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGABRT)
            with suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=10)
        events = "\n".join(json.dumps(e) for e in self.events()[after:]) or "(none)"
        return f"events since the wait began:\n{events}\napp log (end):\n{self.log()[-6000:]}"

    def stop(self) -> None:
        """End the app."""
        if self.proc is not None:
            _stop(self.proc)


def tray_icon(display: XDisplay, app_class: str = "Greenpair") -> str | None:
    """The id of the window the tray host embedded for ``app_class`` (None: not embedded)."""
    panel = next((line.split()[0] for line in display.tree().splitlines()
                  if '("panel" "trayer")' in line), None)
    if panel is None:
        return None
    inside = display.run("xwininfo", "-id", panel, "-tree", check=False)
    for line in inside.splitlines():
        if f'"{app_class}")' in line:
            return line.split()[0]
    return None


def open_tray_menu(display: XDisplay, app: GreenpairApp, icon: str) -> None:
    """Right-click the tray icon until its menu opens.

    Right after a menu closes, Qt may still hold the pointer grab for a moment and the
    click is lost, so it is retried.
    """
    for _ in range(10):
        seen = len(app.events())
        display.xdotool("mousemove", "--window", icon, "8", "8", "click", "3")
        try:
            app.wait_event("tray_menu", after=seen, timeout=1.5, post_mortem=False)
            return
        except AssertionError:
            continue
    raise AssertionError("the tray menu did not open")
