"""The rotating log file and the dialog for an exception nobody caught."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import pytest

from desktop import logs


@pytest.fixture
def log_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv(logs.ENV_DIR, str(tmp_path / "logs"))
    yield tmp_path / "logs"
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == "queuestudio-file"]:
        root.removeHandler(handler)
        handler.close()


def test_the_log_goes_to_a_rotating_file_in_the_data_location(log_dir: Path) -> None:
    path = logs.setup_logging()
    assert path == log_dir / "queuestudio.log"
    logging.getLogger("engine.test").warning("a record from the engine")
    assert "a record from the engine" in path.read_text(encoding="utf-8")
    assert logs.setup_logging() == path  # set up twice: one handler, not two
    assert sum(h.get_name() == "queuestudio-file" for h in logging.getLogger().handlers) == 1


def test_an_uncaught_exception_is_logged_and_shown_with_where_the_log_is(
    log_dir: Path, dialogs: Any, qapp: Any
) -> None:
    path = logs.setup_logging()
    try:
        raise ValueError("the unexpected")
    except ValueError:
        logs.report_uncaught(*sys.exc_info())  # type: ignore[arg-type]
    (call,) = dialogs.of("critical")
    assert "ValueError: the unexpected" in call[2] and str(path) in call[2]
    text = path.read_text(encoding="utf-8")
    assert "uncaught exception" in text and "Traceback" in text and "the unexpected" in text


def test_install_makes_it_the_excepthook(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "excepthook", sys.__excepthook__)
    logs.install_excepthook()
    assert sys.excepthook is logs.report_uncaught


def test_settings_recovery_and_log_live_in_standard_folders_without_spaces(
    qapp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtCore import QCoreApplication, QSettings

    from desktop import autosave
    from desktop.app import create_application

    monkeypatch.delenv(autosave.ENV_DIR, raising=False)
    monkeypatch.delenv(logs.ENV_DIR, raising=False)
    names = QCoreApplication.organizationName(), QCoreApplication.applicationName()
    try:
        create_application()
        assert QCoreApplication.applicationName() == "queuestudio"
        settings = QSettings().fileName()
        for path in (autosave.default_directory(), logs.log_directory(), Path(settings)):
            assert " " not in str(path), path
        assert "state" in str(autosave.default_directory()) and "state" in str(logs.log_directory())
    finally:
        QCoreApplication.setOrganizationName(names[0])
        QCoreApplication.setApplicationName(names[1])
