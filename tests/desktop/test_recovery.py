"""Never lose work: half-finished models save and open again, and every document a crashed
Queue Studio left unsaved is offered back, restored valid or not, and deleted only when the
user says so.

A crash is simulated the way the operating system leaves it: a :class:`Recovery` writes the
recovery file, its lock is released (a dead process holds no lock) and nothing else
happens — no close, no discard.
"""

from __future__ import annotations

import copy
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from desktop.autosave import Recovery, orphans
from desktop.commands import AddItems, SetLinkField
from desktop.document import ModelDocument
from desktop.main_window import MainWindow
from desktop.recovery_dialog import Choice, RecoveryDialog
from engine.model import Link, Model, Node, load_model

ROOT = Path(__file__).resolve().parents[2]
MM1 = ROOT / "resources" / "examples" / "mm1.json"
PROBLEM = "give every out-link a probability, or none"


def mid_edit(model: Model) -> Model:
    """``model`` (the M/M/1 example) caught mid-edit: a second out-link drawn from the
    station to a new sink, the first one already given a probability, the new one not yet."""
    model = copy.deepcopy(model)
    model.nodes.append(Node("done2", "sink", (600.0, 120.0), {}))
    model.links[1].probability = 0.5
    model.links.append(Link("cpu", "done2"))
    return model


def draw_second_out_link(window: MainWindow) -> None:
    """The same edit made in a window, as undoable commands."""
    doc = window.document
    doc.undo_stack.push(SetLinkField(doc, ("cpu", "done"), "probability", 0.5))
    doc.undo_stack.push(AddItems(doc, [Node("done2", "sink", (600.0, 120.0), {})], [Link("cpu", "done2")]))


def crash(directory: Path, model: Model, path: str | None = None, minutes_ago: float = 0.0) -> Path:
    """Leave a recovery file of ``model`` (unsaved, opened from ``path``) the way a process
    that died ``minutes_ago`` leaves it; returns the file."""
    doc = ModelDocument()
    doc.reset(model, path, modified=True)
    recovery = Recovery(doc, directory, interval_ms=60_000)
    assert recovery.save_now()
    recovery.timer.stop()
    recovery._lock.unlock()  # what the operating system does when the process dies
    when = time.time() - 60 * minutes_ago
    os.utime(recovery.path, (when, when))
    return recovery.path


def save_as(window: MainWindow, monkeypatch: pytest.MonkeyPatch, path: Path) -> bool:
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(path), "")))
    return window.save_as()


class User:
    """Answers the recovery dialog: ``script`` works its widgets (default: Not Now)."""

    def __init__(self) -> None:
        self.script: Callable[[RecoveryDialog], None] = lambda d: d.later_button.click()
        self.shown: list[list[str]] = []

    def exec(self, dialog: RecoveryDialog) -> int:
        self.shown.append([dialog.list.item(i).text() for i in range(dialog.list.count())])
        self.script(dialog)
        return int(dialog.result())


@pytest.fixture
def user(monkeypatch: pytest.MonkeyPatch) -> User:
    answers = User()
    monkeypatch.setattr(RecoveryDialog, "exec", lambda dialog: answers.exec(dialog))
    return answers


@pytest.fixture
def start(qtbot: Any, tmp_path: Path) -> Callable[..., MainWindow]:
    """A new Queue Studio start: a window on the bundled example (or ``path``) sharing the
    recovery folder, with every window it opens registered for clean-up."""
    made: list[MainWindow] = []

    def make(path: str | None = None) -> MainWindow:
        win = MainWindow(recovery_dir=tmp_path / "recovery", autosave_ms=60_000)
        qtbot.addWidget(win)
        made.append(win)
        assert win.open_initial(path)
        return win

    yield make
    for win in made:
        for other in win.other_windows:
            qtbot.addWidget(other)


def recovery_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "recovery").glob("recovery-*.json"))


# ------------------------------------------------------------------ save and open
def test_a_mid_edit_model_saves_and_opens_again_with_its_problems_listed(
    window: MainWindow, qtbot: Any, monkeypatch: pytest.MonkeyPatch, dialogs: Any, tmp_path: Path, start: Any
) -> None:
    draw_second_out_link(window)
    target = tmp_path / "half.json"
    assert save_as(window, monkeypatch, target)
    assert "Saved half.json with 1 problem to fix before it can run" in window.statusBar().currentMessage()
    assert not dialogs.calls and not window.isWindowModified()

    other = start(str(target))
    assert not dialogs.calls
    assert other.document.model.to_dict() == window.document.model.to_dict()
    assert other.document.path == str(target) and not other.isWindowModified()
    assert "with 1 problem to fix before it can run" in other.statusBar().currentMessage()
    other.scene.refresh_markers()
    badge = other.node_item("cpu").badge
    assert badge.isVisibleTo(other.node_item("cpu")) and badge.error and PROBLEM in badge.toolTip()
    assert "1 error" in other.problems_label.text() and PROBLEM in other.problems_label.toolTip()
    qtbot.mouseClick(other.problems_label, Qt.MouseButton.LeftButton)
    [(_kind, title, listed)] = dialogs.of("information")
    assert title == "Problems" and listed.startswith("Fix before it can run:\n") and PROBLEM in listed

    # Run is off, its tooltip naming the problem (issue 17); asked anyway (F5 cannot), the run
    # is refused with the problem, not a traceback, and the editor goes on.
    live = other.live_run
    assert not live.controls.run_action.isEnabled() and PROBLEM in live.controls.run_action.toolTip()
    live.run()
    qtbot.waitUntil(lambda: bool(dialogs.of("critical")), timeout=5000)
    [(_kind, _title, text)] = dialogs.of("critical")
    assert PROBLEM in text and "Traceback" not in text
    qtbot.waitUntil(lambda: live.worker_thread is None, timeout=5000)
    assert live.state == "failed"

    # Fixed, it runs.
    doc = other.document
    doc.undo_stack.push(SetLinkField(doc, ("cpu", "done2"), "probability", 0.5))
    assert doc.run_problems() == []
    live.change_setting("end_time", 2000.0)
    live.change_setting("warmup", 100.0)
    live.run()
    qtbot.waitUntil(lambda: live.state == "finished", timeout=10_000)
    assert len(dialogs.of("critical")) == 1


def test_saving_a_valid_model_says_nothing_about_problems(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert save_as(window, monkeypatch, tmp_path / "ok.json")
    assert window.statusBar().currentMessage() == "Saved ok.json"


def test_only_a_file_that_is_no_model_is_refused(window: MainWindow, dialogs: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "queuestudio-model", "version": 1, "nodes": [{"id": "a"')
    before = window.document.model.to_dict()
    assert not window.open_path(bad)
    [(kind, title, text)] = dialogs.calls
    assert kind == "warning" and title == "Cannot Open Model" and "not valid JSON" in text
    assert window.document.model.to_dict() == before


# ------------------------------------------------------------------ recovery
def test_a_crashed_mid_edit_model_is_restored_and_its_file_kept_until_saved(
    start: Any, user: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qtbot: Any
) -> None:
    half = mid_edit(load_model(MM1))
    [file] = [crash(tmp_path / "recovery", half)]
    fresh = start()
    user.script = lambda d: d.restore_button.click()
    [restored] = fresh.offer_recovery()
    assert restored is fresh and not fresh.other_windows
    assert "M/M/1" in user.shown[0][0] and "never saved" in user.shown[0][0]
    assert "1 problem to fix before it can run" in user.shown[0][0]
    assert fresh.document.model.to_dict() == half.to_dict()
    assert fresh.isWindowModified() and fresh.document.path is None
    assert PROBLEM in fresh.problems_label.toolTip() or PROBLEM in fresh.document.run_problems()[0]
    # The restored document took the file over: still there, claimed, autosaved into.
    assert file.exists() and fresh.recovery.path == file and orphans(tmp_path / "recovery") == []
    fresh.document.set_setting("name", "After restore")
    assert fresh.recovery.save_now()
    assert json.loads(file.read_text())["model"]["name"] == "After restore"
    assert save_as(fresh, monkeypatch, tmp_path / "kept.json")
    assert not file.exists() and recovery_files(tmp_path) == []


def test_two_crashed_windows_are_both_offered_and_not_now_keeps_both(
    start: Any, user: User, tmp_path: Path, dialogs: Any
) -> None:
    model = load_model(MM1)
    first = crash(tmp_path / "recovery", mid_edit(model), str(tmp_path / "a.json"))
    model.name = "Second"
    second = crash(tmp_path / "recovery", model)
    fresh = start()
    assert fresh.offer_recovery() == []
    [listed] = user.shown
    assert len(listed) == 2
    assert any("a.json" in line and str(tmp_path / "a.json") in line for line in listed)
    assert any(line.startswith("Second — autosaved ") and "no problems" in line for line in listed)
    assert first.exists() and second.exists() and not dialogs.calls
    # Kept, released, and offered again at the next start.
    again = start()
    assert again.offer_recovery() == [] and len(user.shown[1]) == 2
    assert first.exists() and second.exists()


def test_restoring_two_crashed_windows_opens_each_in_its_own_window(
    start: Any, user: User, tmp_path: Path, dialogs: Any
) -> None:
    model = load_model(MM1)
    half = mid_edit(model)
    files = {crash(tmp_path / "recovery", half, str(tmp_path / "a.json")): half}
    other = copy.deepcopy(model)
    other.name = "Second"
    files[crash(tmp_path / "recovery", other)] = other
    fresh = start()
    user.script = lambda d: d.restore_button.click()
    windows = fresh.offer_recovery()
    assert len(windows) == 2 and windows[0] is fresh and fresh.other_windows == [windows[1]]
    by_file = {w.recovery.path: w for w in windows}
    assert set(by_file) == set(files)
    for file, model_there in files.items():
        assert by_file[file].document.model.to_dict() == model_there.to_dict()
        assert by_file[file].isWindowModified() and file.exists()
    assert by_file[next(iter(files))].document.path == str(tmp_path / "a.json")
    assert orphans(tmp_path / "recovery") == []  # both claimed by their windows
    # Closing a restored window asks; discarding its changes deletes its file, and only it.
    dialogs.answer = QMessageBox.StandardButton.Discard
    assert windows[1].close()
    assert not windows[1].recovery.path.exists() and windows[0].recovery.path.exists()


def test_unticked_documents_are_kept_for_next_time(start: Any, user: User, tmp_path: Path) -> None:
    model = load_model(MM1)
    newer_model = copy.deepcopy(model)
    newer_model.name = "Newer"
    older = crash(tmp_path / "recovery", model, minutes_ago=10)
    newer = crash(tmp_path / "recovery", newer_model, minutes_ago=1)
    fresh = start()

    def restore_the_first_only(dialog: RecoveryDialog) -> None:
        dialog.set_checked(1, False)
        dialog.restore_button.click()

    user.script = restore_the_first_only
    [restored] = fresh.offer_recovery()
    assert user.shown[0][0].startswith("Newer — ")
    assert restored.recovery.path == newer and restored.document.model.name == "Newer" and older.exists()
    [offered_again] = orphans(tmp_path / "recovery")
    assert offered_again.path == older
    offered_again.release()


def test_discarding_asks_first_and_deletes_only_the_ticked_files(
    start: Any, user: User, tmp_path: Path, dialogs: Any
) -> None:
    model = load_model(MM1)
    valid = crash(tmp_path / "recovery", model, minutes_ago=5)
    half = crash(tmp_path / "recovery", mid_edit(model))  # listed first: newest first
    fresh = start()
    dialogs.answer = QMessageBox.StandardButton.Cancel

    def discard_the_second(dialog: RecoveryDialog) -> None:
        dialog.set_checked(0, False)
        dialog.discard_button.click()  # asked, and cancelled: the dialog stays
        assert dialog.result() == 0 and dialog.choice is Choice.LATER
        dialogs.answer = QMessageBox.StandardButton.Discard
        dialog.discard_button.click()

    user.script = discard_the_second
    assert fresh.offer_recovery() == []
    assert [c[1] for c in dialogs.of("question")] == ["Discard Unsaved Changes"] * 2
    assert not fresh.isWindowModified() and fresh.document.path is None
    assert recovery_files(tmp_path) == [half] and not valid.exists()
    [offered] = orphans(tmp_path / "recovery")
    assert offered.model is not None and offered.problems == [f"node 'cpu': {PROBLEM}"]
    offered.release()


def test_nothing_ticked_means_nothing_to_restore_or_discard(start: Any, user: User, tmp_path: Path) -> None:
    crash(tmp_path / "recovery", load_model(MM1))
    fresh = start()

    def untick(dialog: RecoveryDialog) -> None:
        dialog.set_checked(0, False)
        assert not dialog.restore_button.isEnabled() and not dialog.discard_button.isEnabled()
        dialog.reject()  # Escape, or the window's close button

    user.script = untick
    assert fresh.offer_recovery() == [] and len(recovery_files(tmp_path)) == 1


def test_a_damaged_recovery_file_is_moved_aside_and_reported(
    start: Any, user: User, tmp_path: Path, dialogs: Any
) -> None:
    folder = tmp_path / "recovery"
    good = crash(folder, load_model(MM1))
    bad = folder / "recovery-0badjson.json"
    bad.write_text('{"path": null, "saved_at": "2026-11-30T10:00:00", "model": {"nodes": [')
    fresh = start()
    user.script = lambda d: d.restore_button.click()
    [restored] = fresh.offer_recovery()
    assert restored.recovery.path == good
    [listed] = user.shown
    damaged_line = next(line for line in listed if "damaged" in line)
    aside = folder / "damaged-0badjson.json"
    assert "not valid JSON" in damaged_line and str(aside) in damaged_line
    assert not bad.exists() and aside.read_text().startswith('{"path": null')
    assert not Path(f"{bad}.lock").exists() and not dialogs.calls


def test_only_damaged_files_are_still_reported(start: Any, user: User, tmp_path: Path) -> None:
    folder = tmp_path / "recovery"
    folder.mkdir()
    (folder / "recovery-x.json").write_text('{"model": {"format": "something else"}}')
    fresh = start()
    seen: list[bool] = []
    user.script = lambda d: (seen.append(d.restore_button.isHidden()), d.later_button.click())
    assert fresh.offer_recovery() == [] and seen == [True]
    assert "damaged" in user.shown[0][0] and (folder / "damaged-x.json").exists()
    assert fresh.offer_recovery() == [] and len(user.shown) == 1  # not offered twice


def test_a_file_opened_on_the_command_line_is_not_replaced_by_a_restore(start: Any, user: User, tmp_path: Path) -> None:
    crash(tmp_path / "recovery", mid_edit(load_model(MM1)))
    fresh = start(str(MM1))
    user.script = lambda d: d.restore_button.click()
    [restored] = fresh.offer_recovery()
    assert restored is not fresh and fresh.other_windows == [restored]
    assert fresh.document.path == str(MM1) and not fresh.isWindowModified()
    assert len(restored.document.model.nodes) == 4 and restored.isWindowModified()


def test_the_real_dialog_is_modal_and_answers_its_buttons(start: Any, tmp_path: Path, qtbot: Any) -> None:
    file = crash(tmp_path / "recovery", mid_edit(load_model(MM1)))
    fresh = start()
    fresh.show()
    seen: list[RecoveryDialog] = []

    def press_restore(tries: int = 250) -> None:
        shown = [w for w in QApplication.topLevelWidgets() if isinstance(w, RecoveryDialog) and w.isVisible()]
        if shown:
            seen.append(shown[0])
            shown[0].restore_button.click()
        elif tries:
            QTimer.singleShot(20, lambda: press_restore(tries - 1))

    QTimer.singleShot(0, press_restore)
    [restored] = fresh.offer_recovery()
    assert seen and restored is fresh and fresh.recovery.path == file
    assert seen[0].list.count() == 1 and seen[0].windowTitle() == "Restore Unsaved Changes"


# ------------------------------------------------------------------ whatever opens can be edited
NASTY: list[Any] = [
    None,
    -1,
    0,
    1e308,
    1e-300,
    "abc",
    [],
    {},
    [1, 2],
    [[0, "x"]],
    {"dist": "nope"},
    {"dist": "exponential"},
    {"dist": "exponential", "mean": "x"},
    True,
    10**30,
    {"dist": "empirical", "values": []},
    {"kind": "dynamic"},
]
PARAMS = ["concurrency", "service_time", "rate", "queue_capacity", "policy", "population", "think_time"]
PARAMS += ["interarrival", "limit", "profile", "num_workers", "delay", "queue_policy", "io_time"]
KINDS = ["source", "server", "sink", "router", "delay", "clients", "thread_pool", "async_server", "wormhole"]


def mutate(rng: random.Random, data: dict[str, Any]) -> None:
    """One half-finished or hand-edited change: a nasty parameter value, a swapped kind, a
    bad probability, a new link, or an odd simulation setting."""
    nodes = data["nodes"]
    roll = rng.random()
    if roll < 0.5:
        params = rng.choice(nodes).setdefault("params", {})
        params[rng.choice([*params, *PARAMS])] = copy.deepcopy(rng.choice(NASTY))
    elif roll < 0.65:
        rng.choice(nodes)["kind"] = rng.choice(KINDS)
    elif roll < 0.8 and data.get("links"):
        rng.choice(data["links"])["probability"] = rng.choice([0, 0.3, 1, 7, -1])
    elif roll < 0.9:
        a, b = rng.sample(nodes, 2)
        data.setdefault("links", []).append({"from": a["id"], "to": b["id"]})
    else:
        data["simulation"][rng.choice(["end_time", "warmup", "sample_interval"])] = rng.choice([0, -5, 1e-300, 5])


def test_every_model_that_opens_can_be_shown_inspected_and_saved(
    window: MainWindow, dialogs: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files that used to be refused now open: the canvas, every node's inspector and
    saving must cope with whatever a file may hold (QUEUESTUDIO_EDITOR_FUZZ cases, default 40;
    QUEUESTUDIO_EDITOR_FUZZ_SEED picks another series)."""
    examples = sorted((ROOT / "resources" / "examples").glob("*.json"))
    rng = random.Random(int(os.environ.get("QUEUESTUDIO_EDITOR_FUZZ_SEED", "16")))
    opened = 0
    for case in range(int(os.environ.get("QUEUESTUDIO_EDITOR_FUZZ", "40"))):
        data = json.loads(rng.choice(examples).read_text())
        for _ in range(rng.randint(1, 3)):
            mutate(rng, data)
        path = tmp_path / f"case{case}.json"
        path.write_text(json.dumps(data))
        calls = len(dialogs.calls)
        if not window.open_path(path):
            assert dialogs.calls[calls:] and dialogs.calls[-1][1] == "Cannot Open Model"
            continue
        opened += 1
        for node_id in list(window.scene.nodes):
            window.scene.select([node_id])
        window.scene.refresh_markers()
        assert not window.grab().isNull()
        assert save_as(window, monkeypatch, tmp_path / f"saved{case}.json")
        assert window.open_path(tmp_path / f"saved{case}.json")
        assert window.document.model.to_dict() == json.loads((tmp_path / f"saved{case}.json").read_text())
    assert opened > 0


@pytest.mark.parametrize(
    ("node", "params"),
    [(0, {"profile": [1, 2]}), (0, {"profile": [[0, "x"]]}), (1, {"queue_policy": 10**30, "concurrency": "abc"})],
)
def test_malformed_values_are_inspected_without_an_exception(
    window: MainWindow, tmp_path: Path, node: int, params: dict[str, Any]
) -> None:
    data = json.loads(MM1.read_text())
    data["nodes"][node]["params"] = params
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(data))
    assert window.open_path(path)
    node_id = data["nodes"][node]["id"]
    window.scene.select([node_id])
    assert window.inspector.isVisible() and window.document.run_problems()
    assert all(node_id in p for p in window.document.run_problems())


KILLED = """
import os, signal, sys
from pathlib import Path
from PySide6.QtCore import QCoreApplication
from desktop.autosave import Recovery
from desktop.document import ModelDocument
from engine.model import load_model

app = QCoreApplication([])
doc = ModelDocument()
doc.reset(load_model(sys.argv[2]), None, modified=True)
doc.set_setting("name", "Killed mid-edit")
recovery = Recovery(doc, Path(sys.argv[1]))
assert recovery.save_now()
print(recovery.path, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.skipif(not hasattr(os, "kill") or os.name != "posix", reason="needs SIGKILL")
def test_the_file_of_a_killed_process_is_offered(start: Any, user: User, tmp_path: Path) -> None:
    """A real dead process: its lock is stale, so the next start finds its file."""
    folder = tmp_path / "recovery"
    result = subprocess.run(
        [sys.executable, "-c", KILLED, str(folder), str(MM1)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert result.returncode == -9, result.stderr
    file = Path(result.stdout.strip())
    assert file.exists() and Path(f"{file}.lock").exists()
    fresh = start()
    user.script = lambda d: d.restore_button.click()
    [restored] = fresh.offer_recovery()
    assert restored.document.model.name == "Killed mid-edit" and restored.recovery.path == file


def test_half_finished_nodes_can_be_duplicated(window: MainWindow) -> None:
    draw_second_out_link(window)
    window.scene.select(["cpu", "done", "done2"])
    copies = window.canvas.editor.duplicate()
    assert len(copies) == 3 and window.document.has_link(copies[0], copies[2])
    assert any(PROBLEM in p and copies[0] in p for p in window.document.run_problems())
