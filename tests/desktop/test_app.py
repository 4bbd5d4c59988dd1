"""The ``queuestudio`` GUI entry point: screenshots, arguments, and the platform check."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from desktop import app
from desktop.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[2]


def test_launcher_renders_a_screenshot_and_exits(tmp_path: Path) -> None:
    out = tmp_path / "out.png"
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "desktop.launcher",
            "--screenshot",
            str(out),
            str(ROOT / "resources" / "examples" / "mm1.json"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    image = QImage(str(out))
    assert not image.isNull() and image.width() == 1280 and image.height() == 800
    assert "Traceback" not in result.stderr and "Fatal" not in result.stderr


def test_a_file_that_is_no_model_with_screenshot_exits_2_with_the_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "queuestudio-model", "version": 1, "nodes": [{"id": "x", "kind": "sink", "size": 3}]}')
    assert app.main([str(bad), "--screenshot", str(tmp_path / "o.png")]) == 2
    assert not (tmp_path / "o.png").exists() and "unknown field 'size'" in capsys.readouterr().err


def test_a_model_with_problems_still_renders_a_screenshot(tmp_path: Path) -> None:
    half = tmp_path / "half.json"
    half.write_text('{"format": "queuestudio-model", "version": 1, "nodes": [{"id": "x", "kind": "wormhole"}]}')
    out = tmp_path / "o.png"
    assert app.main([str(half), "--screenshot", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_arguments() -> None:
    args = app.parse_args(["m.json", "--screenshot", "o.png", "--run-for", "2.5"])
    assert (args.model, args.screenshot, args.run_for) == ("m.json", "o.png", 2.5)
    assert app.parse_args([]).model is None


def test_missing_xcb_libraries_are_named_instead_of_crashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(app.ctypes.util, "find_library", lambda name: None if name == "xcb-cursor" else name)
    monkeypatch.setattr(app, "_probe_ok", lambda: False)
    message = app.platform_problem()
    assert message is not None and "libxcb-cursor0" in message and "sudo apt install" in message


def test_present_libraries_or_another_platform_need_no_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert app.platform_problem() is None
    monkeypatch.delenv("QT_QPA_PLATFORM")
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(app.ctypes.util, "find_library", lambda name: name)
    assert app.platform_problem() is None


def test_no_display_at_all_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    assert "display" in (app.platform_problem() or "")


def test_recovery_is_offered_even_when_the_model_on_the_command_line_does_not_open(
    qtbot: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, dialogs: Any
) -> None:
    offered: list[MainWindow] = []
    monkeypatch.setattr(MainWindow, "offer_recovery", lambda self: offered.append(self) or [])

    def event_loop(_app: QApplication) -> int:
        qtbot.waitUntil(lambda: bool(offered), timeout=5000)
        return 0

    monkeypatch.setattr(QApplication, "exec", event_loop)
    assert app.main([str(tmp_path / "missing.json")]) == 0
    [window] = offered
    assert [c[1] for c in dialogs.calls] == ["Cannot Open Model"]
    # main() deletes its window before returning, not PySide's clean-up at interpreter exit.
    assert not shiboken6.isValid(window)
