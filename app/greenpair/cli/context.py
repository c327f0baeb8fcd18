"""The services of one ``greenpair`` command, built once per process and closed at exit.

Every subcommand asks :func:`services` instead of reaching for process-wide objects: the
first call reads the settings and builds a :class:`~greenpair.core.services.Services`
(nothing heavy loads until used); the root click context closes it when the command ends
(the model is unloaded, the indexes closed, the meter's sampler stopped).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from greenpair.core.services import Services

_KEY = "greenpair.services"


def services() -> Services:
    """This command's services (built on first use)."""
    root = click.get_current_context().find_root()
    found: Services | None = root.meta.get(_KEY)
    if found is None:
        from greenpair.core.services import Services

        found = root.meta[_KEY] = Services.build()
        root.call_on_close(found.close)
    return found
