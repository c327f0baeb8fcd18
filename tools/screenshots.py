"""Screenshots of the real app for the README: ``python tools/screenshots.py OUTDIR``.

Runs the real window offscreen on a small demo repository (written to a temporary
folder, with a temporary data directory so the user's settings are untouched): the real
index, the real model (the default one when it is installed, else the tiny one) and the
real patch pipeline. Writes ``empty.png``, ``indexing.png``, ``answer.png``,
``code_viewer.png``, ``patch.png``, ``patch_side_by_side.png``, ``conversations.png``,
``cited_file_changed.png``, ``model_switch.png``, ``energy.png``, ``settings.png`` and
``error.png``.

A developer tool, kept out of the package (``make screenshots`` runs it). The energy
page's ledger gets 30 days of sample rows (``tests/helpers/ledger_rows.py``) besides the
rows this run records, so that its plots have something to show.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger("greenpair.screenshots")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "app"))
sys.path.insert(0, str(ROOT))

DEMO_FILES = {
    "README.md": """
        # Corner shop

        The checkout of a small online shop: a cart, discount codes and the payment step.
        """,
    "shop/cart.py": '''
        """The shopping cart."""

        from dataclasses import dataclass, field

        TAX_RATE = 0.2


        @dataclass
        class Item:
            name: str
            price: float
            quantity: int = 1


        @dataclass
        class Cart:
            """Items a customer is about to buy."""

            items: list[Item] = field(default_factory=list)

            def add(self, name: str, price: float, quantity: int = 1) -> None:
                """Add an item; the quantity must be positive."""
                if quantity <= 0:
                    raise ValueError("quantity must be positive")
                self.items.append(Item(name, price, quantity))

            def subtotal(self) -> float:
                """Sum of price times quantity, before tax."""
                return sum(item.price * item.quantity for item in self.items)

            def total(self, code: str | None = None) -> float:
                """The amount to pay: discount first, then tax, rounded to cents."""
                from shop.discounts import apply_discount

                discounted = apply_discount(self.subtotal(), code)
                return round(discounted * (1 + TAX_RATE), 2)
        ''',
    "shop/discounts.py": '''
        """Discount codes."""


        def apply_discount(total: float, code: str | None) -> float:
            """Return the total after applying a discount code (unknown codes do nothing)."""
            if code == "HALF":
                return total / 2
            if code == "TENOFF":
                return max(0.0, total - 10)
            return total
        ''',
    "shop/payment.py": '''
        """Payment: charge the customer through the payment provider."""

        from shop.cart import Cart


        class PaymentError(Exception):
            """The provider refused the payment."""


        def charge(cart: Cart, card_token: str, code: str | None = None) -> str:
            """Charge the cart's total; returns the provider's receipt id."""
            amount = cart.total(code)
            if amount <= 0:
                raise PaymentError("nothing to charge")
            return f"receipt-{card_token[-4:]}-{int(amount * 100)}"
        ''',
    "web/checkout.js": """
        // Checkout page: shows the total and submits the order.
        export function formatPrice(cents) {
          return (cents / 100).toFixed(2) + " EUR";
        }

        export class CheckoutForm {
          constructor(el) { this.el = el; }
          submitOrder(order) {
            return fetch("/api/order", { method: "POST", body: JSON.stringify(order) });
          }
        }
        """,
    "tests/test_cart.py": """
        from shop.cart import Cart


        def test_total_with_tax():
            cart = Cart()
            cart.add("apple", 1.0, 3)
            assert cart.total() == 3.6


        def test_half_price_code():
            cart = Cart()
            cart.add("book", 20.0)
            assert cart.total("HALF") == 12.0
        """,
}

KNOWN_EDIT = """shop/discounts.py
<<<<<<< SEARCH
    if code == "TENOFF":
=======
    if code == "QUARTER":
        return total * 0.75
    if code == "TENOFF":
>>>>>>> REPLACE
"""

QUESTION = "How is the cart total computed, and where are discount codes applied?"
SECOND_QUESTION = "Which discount codes exist?"
TASK = ('In shop/discounts.py, make apply_discount accept the code "QUARTER", which takes '
        "25% off the total.")


def write_demo_repo(root: Path) -> Path:
    """The demo repository, committed with git."""
    for rel, text in DEMO_FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1"}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                 ["-c", "user.name=Demo", "-c", "user.email=demo@example.invalid",
                  "commit", "-q", "-m", "Corner shop"]):
        subprocess.run(["git", *args], cwd=root, check=True, env=env, capture_output=True)
    return root


def _wait(app: Any, done: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not get there in time")
        app.processEvents()
        time.sleep(0.02)


def _save(widget: Any, out: Path, name: str) -> None:
    app = widget.window()
    for _ in range(3):
        from PySide6.QtWidgets import QApplication

        QApplication.processEvents()
    path = out / name
    if not widget.grab().save(str(path)):
        raise OSError(f"cannot write {path}")
    log.info("wrote %s (%dx%d)", path, app.width(), app.height())


def take(out: Path, model: str | None) -> None:
    """Run the app and write every screenshot into ``out``."""
    from PySide6.QtWidgets import QApplication
    from tests.helpers.fake_runtime import FakeRuntime

    from greenpair.core.config import DEFAULT_MODEL, TINY_MODEL, Settings
    from greenpair.core.llm import model_store as store
    from greenpair.ui.app import create_application
    from greenpair.ui.message_bridge import UserMessage
    from greenpair.ui.settings.dialog import SettingsDialog
    from greenpair.ui.window.main_window import MainWindow

    app = create_application([sys.argv[0]])
    chosen = model or (DEFAULT_MODEL if store.find_model(DEFAULT_MODEL) else TINY_MODEL)
    settings = Settings(model=chosen)
    repo = write_demo_repo(Path(tempfile.mkdtemp(prefix="greenpair-demo-")) / "corner-shop")
    window = MainWindow(settings)
    window.resize(1280, 800)
    window.show()

    # Indexing: Greenpair's own source (big enough to catch the embedding mid-way); then
    # the demo repository is opened, which cancels that run.
    import greenpair

    captured: list[bool] = []

    def on_progress(progress: Any) -> None:
        # Grab mid-run (the slot runs in the GUI thread, between two index steps).
        total = progress.chunks_total if progress.phase == "embed" else 0
        if not captured and total and progress.chunks_done >= total // 4:
            captured.append(True)
            _save(window, out, "indexing.png")

    window.index.progress.connect(on_progress)
    window.open_repo(Path(greenpair.__file__).resolve().parent)
    _wait(app, lambda: bool(captured) or not window.index.running, 900)
    if not captured:
        log.warning("the index finished before a progress step could be captured")
    window.index.progress.disconnect(on_progress)
    window.open_repo(repo)
    _wait(app, lambda: not window.index.running, 600)
    _save(window, out, "empty.png")

    window.input.setPlainText(QUESTION)
    window.ask()
    _wait(app, lambda: not window.assistant.busy, 900)
    window.input.setPlainText("")
    _save(window, out, "answer.png")

    refs = window.chat.citations()
    if refs:
        window.open_citation(refs[0].path, refs[0].start_line, refs[0].end_line)
    else:
        window.open_citation("shop/cart.py", 30, 35)
    _save(window, out, "code_viewer.png")

    window.input.setPlainText(TASK)
    window.propose()
    _wait(app, lambda: not window.assistant.busy, 900)
    if window.diff.state != "ready":
        # The model's edit did not apply: draft the same change from a known edit through
        # the same real pipeline (retrieval, matching, git apply --check, tree-sitter).
        log.warning("the model's edit was not valid; the diff comes from a known edit")
        window.assistant.runtime = FakeRuntime([KNOWN_EDIT], model_id=chosen)
        window.input.setPlainText(TASK)
        window.propose()
        _wait(app, lambda: not window.assistant.busy, 120)
        turn = window.chat.current
        if turn is not None:  # its figures are the fake runtime's: do not show them
            turn.stats = "(for this screenshot the edit was given, not generated)"
            window.chat.render_now()
    _save(window, out, "patch.png")
    window.diff.tabs.setCurrentIndex(1)
    _save(window, out, "patch_side_by_side.png")
    window.diff.tabs.setCurrentIndex(0)

    _history_shots(app, window, out, repo, refs)
    _model_switch_shot(window, out)
    _energy_shot(window, out)

    dialog = SettingsDialog(window.settings, window)
    dialog.select_model(chosen)
    dialog.show()
    _save(dialog, out, "settings.png")
    dialog.close()

    window.show_message(UserMessage(
        "error", f"The repository {repo} is gone (moved or deleted).",
        "Open it from its new place with Open… (Ctrl+O)."))
    _save(window, out, "error.png")
    window.shutdown()
    window.close()
    QApplication.processEvents()


def _history_shots(app: Any, window: Any, out: Path, repo: Path, refs: list[Any]) -> None:
    """A second kept conversation, the first one reopened; a cited file edited since."""
    first = window.history.current_id
    window.assistant.new_conversation()
    window.input.setPlainText(SECOND_QUESTION)
    window.ask()
    _wait(app, lambda: not window.assistant.busy, 900)
    window.input.setPlainText("")
    if first is not None:
        window.history.open(first)
    _save(window, out, "conversations.png")
    ref = next((r for r in refs if (repo / r.path).is_file()), None)
    if ref is None:
        log.warning("no citation to reopen after an edit; cited_file_changed.png skipped")
        return
    path = repo / ref.path
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    # The user edits the file after the answer: a comment block above the cited lines and
    # one cited line changed.
    edited = [*lines[:ref.start_line - 1], "# Prices are in euros.\n", "\n"]
    cited = lines[ref.start_line - 1:ref.end_line]
    if cited:
        cited[-1] = cited[-1].rstrip("\n") + "  # edited\n"
    path.write_text("".join(edited + cited + lines[ref.end_line:]), encoding="utf-8")
    window.open_citation(ref.path, ref.start_line, ref.end_line)
    _save(window, out, "cited_file_changed.png")
    path.write_text(text, encoding="utf-8")
    window.open_citation(ref.path, ref.start_line, ref.end_line)  # the file as it is again


def _model_switch_shot(window: Any, out: Path) -> None:
    """The model switch refusing a model that does not fit (free memory pinned low)."""
    switch = window.model_switch
    current = window.settings.effective_model()
    bigger = max((c for c in switch.choices if c.installed and c.id != current),
                 key=lambda c: c.ram_gb, default=None)
    if bigger is None:
        log.warning("only one model is installed; model_switch.png shows the switch alone")
    else:
        switch.free_gb = lambda: max(0.1, bigger.ram_gb / 2)
        switch.choose(bigger.id)
    _save(window, out, "model_switch.png")
    window.banner.dismiss()


def _energy_shot(window: Any, out: Path) -> None:
    """The energy page over 30 days of sample rows and this run's real ones."""
    from tests.helpers.ledger_rows import fill_ledger

    fill_ledger(window.services.meter.ledger(), 30)
    window.open_energy()
    page = window.energy_page
    page.resize(1100, 720)
    _save(page, out, "energy.png")
    page.hide()


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python tools/screenshots.py OUTDIR [--model ID]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--model", help="model id or GGUF path (default: the default model)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    args.outdir.mkdir(parents=True, exist_ok=True)
    from greenpair.core.config import models_dir

    real_models = models_dir()
    with tempfile.TemporaryDirectory(prefix="greenpair-shots-") as home:
        (Path(home) / "models").symlink_to(real_models, target_is_directory=True)
        os.environ["GREENPAIR_HOME"] = home
        take(args.outdir.resolve(), args.model)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
