"""Shared fixtures.

* Every test gets its own ``GREENPAIR_HOME`` under ``tmp_path`` (never the developer's
  settings); the provisioned models are linked into it read-only.
* Tests using ``qtbot``/``qapp`` get the ``gui`` marker, so ``-m "not gui"`` runs the
  core suite without Qt.
* Real-model fixtures fail (never skip) under ``CI=true`` when the model is missing, and
  ``tests/helpers/skip_guard.py`` prints a one-line skip summary and fails a CI run in
  which any model or X11 test was skipped.
"""

from __future__ import annotations

import os
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


# Resolve the real models directory once, before any test moves GREENPAIR_HOME.
from greenpair.core import config as _config

REAL_MODELS_DIR = _config.models_dir()
pytest_plugins = ["pytester", "tests.helpers.skip_guard"]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# Property tests: CI-sized by default; `pytest --hypothesis-profile=long` digs deeper.
# No example database: a run never writes under the repository (.hypothesis/).
_FUZZ_CHECKS = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
settings.register_profile(
    "default", max_examples=60, deadline=None, database=None,
    suppress_health_check=_FUZZ_CHECKS,
)
settings.register_profile(
    "long", max_examples=3000, deadline=None, database=None,
    suppress_health_check=_FUZZ_CHECKS,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "qtbot" in fixtures or "qapp" in fixtures:
            item.add_marker(pytest.mark.gui)


@pytest.fixture(autouse=True)
def greenpair_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data directory per test, with the provisioned models linked in."""
    home = tmp_path / "greenpair-home"
    home.mkdir()
    if REAL_MODELS_DIR.is_dir():
        (home / "models").symlink_to(REAL_MODELS_DIR, target_is_directory=True)
    monkeypatch.setenv("GREENPAIR_HOME", str(home))
    # The walker reads git's global excludes file: keep the developer's or CI user's git
    # configuration out of the results (tests of that feature set their own).
    empty = tmp_path / "empty-gitconfig"
    empty.touch()
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    return home


@pytest.fixture
def meter() -> Iterator[Any]:
    """A real energy meter writing to this test's ledger (what an entry point's Services has)."""
    from greenpair.core.energy.meter import Meter

    made = Meter()
    yield made
    made.close()


def _require_model(model_id: str) -> Path:
    from greenpair.core.llm.model_store import find_model

    path = find_model(model_id)
    if path is None:
        msg = (
            f"model {model_id!r} is not provisioned; run `make setup` "
            f"(or `greenpair models pull {model_id}`)"
        )
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def tiny_model_path() -> Path:
    """SmolLM2-135M: a tiny real GGUF for plumbing tests."""
    return _require_model("smollm2-135m")


@pytest.fixture(scope="session")
def default_model_path() -> Path:
    """The default Qwen2.5-Coder-1.5B: for the few behaviour tests."""
    return _require_model("qwen2.5-coder-1.5b")


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` and return its stdout."""
    return subprocess.run(
        ["git", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1"},
    ).stdout


SAMPLE_FILES = {
    "src/shop/cart.py": '''
        """Shopping cart."""

        TAX_RATE = 0.2


        class Cart:
            """Items a customer is about to buy."""

            def __init__(self):
                self.items = []

            def add_item(self, name, price, quantity=1):
                """Add an item to the cart."""
                if quantity <= 0:
                    raise ValueError("quantity must be positive")
                self.items.append((name, price, quantity))

            def total_price(self):
                """Sum of price times quantity, with tax."""
                subtotal = sum(price * qty for _, price, qty in self.items)
                return round(subtotal * (1 + TAX_RATE), 2)
        ''',
    "src/shop/discounts.py": '''
        """Discount codes."""


        def apply_discount(total, code):
            """Return the total after applying a discount code."""
            if code == "HALF":
                return total / 2
            if code == "TENOFF":
                return max(0, total - 10)
            return total
        ''',
    "web/checkout.js": """
        // Checkout page logic.
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


        def test_total_price():
            cart = Cart()
            cart.add_item("apple", 1.0, 3)
            assert cart.total_price() == 3.6
        """,
    "README.md": """
        # Shop

        A tiny shop used in Greenpair's tests. Run `pytest` to test the cart.
        """,
}


def make_repo(root: Path, files: dict[str, str] | None = None, *, init_git: bool = True) -> Path:
    """Write ``files`` (dedented) under ``root``, optionally as a committed git repo."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in (files or SAMPLE_FILES).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    if init_git:
        git(root, "init", "-q", "-b", "main")
        git(root, "add", "-A")
        git(
            root, "-c", "user.name=Test", "-c", "user.email=test@example.invalid",
            "commit", "-q", "-m", "initial",
        )
    return root


@pytest.fixture
def tmp_repo(tmp_path: Path) -> Path:
    """A small committed git repository with Python, JavaScript, tests and docs."""
    return make_repo(tmp_path / "repo")


@pytest.fixture
def no_network() -> Iterator[list[object]]:
    """Make every non-loopback connection fail; yields the attempted destinations."""
    from tests.helpers.network import block_egress

    with block_egress() as attempts:
        yield attempts
