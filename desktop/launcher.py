"""The ``queuestudio`` command: ``run``, ``sweep`` and ``compare`` go to the headless CLI,
anything else opens the GUI.

This module imports no Qt, so ``queuestudio run …`` works on a machine without a display
or without PySide6.
"""

from __future__ import annotations

import multiprocessing
import sys

#: The subcommands of the headless CLI (engine.cli), which needs no display and no Qt.
HEADLESS = ("run", "sweep", "compare")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``queuestudio`` script."""
    # A frozen app starts the processes of Run Replications (spawn) through this entry point.
    multiprocessing.freeze_support()
    args = sys.argv[1:] if argv is None else list(argv)
    if args and args[0] in HEADLESS:
        from engine.cli import main as cli_main

        return cli_main(args)
    from desktop.app import main as gui_main

    return gui_main(args)


if __name__ == "__main__":
    sys.exit(main())
