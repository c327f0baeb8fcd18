"""Render the icon set from ``assets/*.svg`` (Qt's SVG renderer; Pillow for .ico/.icns).

Writes, into ``assets/``: ``png/greenpair-<N>.png`` for the hicolor sizes, the tray
variants as PNG, ``greenpair.ico`` (Windows) and ``greenpair.icns`` (macOS); and copies
the SVGs the app loads into ``app/greenpair/assets/``. Run after editing an SVG::

    QT_QPA_PLATFORM=offscreen python packaging/make_icons.py
"""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "assets"
SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
TRAY_SIZES = (22, 32, 48)
APP_SVGS = ("greenpair.svg", "greenpair-tray-light.svg", "greenpair-tray-dark.svg")


def _render(svg: Path, size: int, target: Path) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    target.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(target)):
        raise SystemExit(f"could not write {target}")


def main() -> int:
    from PIL import Image
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication([])  # QPainter on QImage needs one for fonts; cheap offscreen
    png = ASSETS / "png"
    for size in SIZES:
        _render(ASSETS / "greenpair.svg", size, png / f"greenpair-{size}.png")
    for variant in ("light", "dark"):
        for size in TRAY_SIZES:
            _render(ASSETS / f"greenpair-tray-{variant}.svg", size,
                    png / f"greenpair-tray-{variant}-{size}.png")
    biggest = Image.open(png / "greenpair-512.png")
    biggest.save(ASSETS / "greenpair.ico", sizes=[(s, s) for s in (16, 24, 32, 48, 64, 128, 256)])
    biggest.save(ASSETS / "greenpair.icns")
    for name in APP_SVGS:
        shutil.copy2(ASSETS / name, ROOT / "app" / "greenpair" / "assets" / name)
    del app
    print(f"icons written to {ASSETS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
