"""Render the main window during a ghost run to a PNG (the README's ghost-run picture).

``python scripts/ghost_screenshot.py OUT.png [MODEL.json] --b NODE.PARAM=VALUE [--run-for S]
[--speed X]`` opens the model, forks scenario B with one parameter changed (named as
``queuestudio sweep --param`` names it, e.g. ``cpu.service_time.mean=0.85``), runs A live
with B as its ghost for ``S`` wall seconds at ``X`` simulated seconds per wall second, pauses,
and saves the 1280×800 window. Offscreen unless QT_QPA_PLATFORM says otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QDockWidget  # noqa: E402

from desktop.commands import SetParams  # noqa: E402
from desktop.main_window import MainWindow  # noqa: E402
from engine.experiments import with_param  # noqa: E402


def wait(seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(round(seconds * 1000), loop.quit)
    loop.exec()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("model", nargs="?", default=str(ROOT / "resources/examples/mm1.json"))
    parser.add_argument("--b", required=True, metavar="NODE.PARAM=VALUE", help="what scenario B changes")
    parser.add_argument("--run-for", type=float, default=6.0)
    parser.add_argument("--speed", type=float, default=2000.0)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    window = MainWindow(recovery_dir=Path(tempfile.mkdtemp()))
    if not window.open_path(args.model, as_example=True):
        return 2
    path, value = args.b.split("=", 1)
    changed = with_param(window.document.model, path, float(value))
    node_id = path.split(".", 1)[0]
    window.resize(1280, 800)
    window.show()
    wait(0.3)
    scenarios = window.compare.scenarios
    scenarios.fork()
    doc = window.document
    doc.undo_stack.push(SetParams(doc, node_id, dict(changed.node(node_id).params)))
    scenarios.show("A")
    # A wider canvas than the default layout gives, so the cards' live strips can be read.
    right = [
        d for d in window.findChildren(QDockWidget) if window.dockWidgetArea(d) == Qt.DockWidgetArea.RightDockWidgetArea
    ]
    window.resizeDocks([window.palette_dock, *right[:1]], [190, 400], Qt.Orientation.Horizontal)
    window.minimap_action.setChecked(False)
    wait(0.2)
    window.canvas.fit_to_view()
    window.live_run.set_speed(args.speed)
    window.compare.ghost_run()
    window.scene.select([node_id])  # the inspector lists what B changes; the charts show that station
    wait(args.run_for)
    window.live_run.pause()
    wait(0.5)
    saved = window.grab().save(args.out)
    window.live_run.shutdown()
    scenarios.save_b_as(window, str(Path(tempfile.mkdtemp()) / "b.json"))
    doc.undo_stack.setClean()
    window.close()
    app.processEvents()
    print(f"{'wrote' if saved else 'could not write'} {args.out}")
    return 0 if saved else 1


if __name__ == "__main__":
    sys.exit(main())
