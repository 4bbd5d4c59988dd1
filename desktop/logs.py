"""The app's log and what happens to an error nobody caught.

The log is a rotating file in the platform's data location (``…/Queue Studio/logs`` under
``QStandardPaths.StateLocation``, ``~/.local/state/queuestudio`` on Linux;
``$QUEUESTUDIO_LOG_DIR`` overrides it): three files
of at most 1 MB. An exception that reaches the event loop is written there with its
traceback and shown in a dialog that says what happened and where the log is, instead of
vanishing when the app was started from a launcher with no terminal.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QApplication, QMessageBox

ENV_DIR = "QUEUESTUDIO_LOG_DIR"
LOG_NAME = "queuestudio.log"
MAX_BYTES = 1_000_000
BACKUPS = 2

log = logging.getLogger("queuestudio")


def log_directory() -> Path:
    """Where the log goes: ``$QUEUESTUDIO_LOG_DIR``, else the app's local data folder."""
    override = os.environ.get(ENV_DIR)
    if override:
        return Path(override)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.StateLocation)
    return Path(base or Path.home() / ".local" / "state" / "queuestudio") / "logs"


def setup_logging(level: int = logging.INFO) -> Path | None:
    """Send the app's and the engine's log records to the rotating log file; returns its
    path (None when the folder cannot be written: then the log goes to stderr only)."""
    root = logging.getLogger()
    root.setLevel(min(root.level or level, level))
    path = log_directory() / LOG_NAME
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
    except OSError as exc:
        logging.basicConfig(level=level)
        log.warning("cannot write the log file %s: %s", path, exc)
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.set_name("queuestudio-file")
    for old in [h for h in root.handlers if h.get_name() == "queuestudio-file"]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    return path


def report_uncaught(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    """``sys.excepthook``: log the exception with its traceback and show it in a dialog."""
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, tb)
        return
    log.error("uncaught exception:\n%s", "".join(traceback.format_exception(kind, value, tb)))
    path = log_directory() / LOG_NAME
    app = QApplication.instance()
    if app is None:
        sys.__excepthook__(kind, value, tb)
        return
    QMessageBox.critical(
        app.activeWindow(),  # type: ignore[attr-defined]
        "Queue Studio: unexpected error",
        f"Something went wrong that Queue Studio did not expect:\n\n{kind.__name__}: {value}\n\n"
        f"Your document is autosaved, so nothing should be lost. The details are in the log:\n{path}\n\n"
        "Please include that file when you report this.",
    )


def install_excepthook() -> None:
    """Make :func:`report_uncaught` the handler of exceptions nobody caught."""
    sys.excepthook = report_uncaught
