"""Colours that follow the system's light or dark palette.

The window never hard-codes a light theme: text and backgrounds come from the current
``QPalette``; the few extra colours (diff lines, cited lines, code blocks) have a light
and a dark variant, picked from the palette's window colour.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"


@dataclass(frozen=True)
class Colours:
    """Extra colours for one palette (hex strings for HTML, usable with ``QColor``)."""

    dark: bool
    text: str
    muted: str
    base: str
    link: str
    code_bg: str
    cited_bg: str
    added_bg: str
    removed_bg: str
    hunk_fg: str
    error_fg: str
    error_bg: str
    pygments_style: str


def is_dark(palette: QPalette | None = None) -> bool:
    """Whether ``palette`` (default: the application's) is a dark one."""
    if palette is None:
        palette = QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def colours(palette: QPalette | None = None) -> Colours:
    """The colours matching ``palette`` (default: the application's)."""
    if palette is None:
        palette = QGuiApplication.palette()
    dark = is_dark(palette)
    text = palette.color(QPalette.ColorRole.Text)
    muted = _mix(text, palette.color(QPalette.ColorRole.Base), 0.45)
    if dark:
        return Colours(
            dark=True, text=text.name(), muted=muted.name(),
            base=palette.color(QPalette.ColorRole.Base).name(),
            link="#6cb6ff", code_bg="#1f2428", cited_bg="#3a3413",
            added_bg="#123d20", removed_bg="#4b1818", hunk_fg="#79b8ff",
            error_fg="#ffb4ab", error_bg="#3b1717", pygments_style="github-dark",
        )
    return Colours(
        dark=False, text=text.name(), muted=muted.name(),
        base=palette.color(QPalette.ColorRole.Base).name(),
        link="#0b57d0", code_bg="#f4f6f8", cited_bg="#fff3b0",
        added_bg="#dcfbe4", removed_bg="#ffe0e0", hunk_fg="#0550ae",
        error_fg="#8c1d18", error_bg="#fde7e5", pygments_style="friendly",
    )


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    """``a`` moved a fraction ``t`` towards ``b``."""
    return QColor(
        round(a.red() + (b.red() - a.red()) * t),
        round(a.green() + (b.green() - a.green()) * t),
        round(a.blue() + (b.blue() - a.blue()) * t),
    )


def app_icon() -> QIcon:
    """Greenpair's icon (an SVG in ``assets/``)."""
    return QIcon(str(ASSETS_DIR / "greenpair.svg"))
