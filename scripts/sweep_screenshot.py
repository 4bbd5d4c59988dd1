"""Render the main window after a sweep from the inspector to a PNG (the README's sweep picture).

``python scripts/sweep_screenshot.py OUT.png [MODEL.json] --param NODE.PARAM --from A --to B
--step S [--replications R] [--metric M ...] [--target METRIC<=VALUE]`` opens the model, points
the Experiment dock at the parameter (as "Sweep this parameter…" in the inspector does), runs
the sweep in this process, waits for every point, and saves the 1280×800 window. Offscreen
unless QT_QPA_PLATFORM says otherwise.
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
from PySide6.QtWidgets import QApplication  # noqa: E402

from desktop.main_window import MainWindow  # noqa: E402


def wait(seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(round(seconds * 1000), loop.quit)
    loop.exec()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("model", nargs="?", default=str(ROOT / "resources/examples/mm1.json"))
    parser.add_argument("--param", default="arrivals.rate", help="NODE.PARAM, as queuestudio sweep names it")
    parser.add_argument("--from", dest="low", default="0.1")
    parser.add_argument("--to", dest="high", default="0.9")
    parser.add_argument("--step", default="0.05")
    parser.add_argument("--replications", type=int, default=5)
    parser.add_argument("--metric", action="append", help="metrics to plot (default: mean_response)")
    parser.add_argument("--target", metavar="METRIC<=VALUE", help="a target line, e.g. mean_response<=5")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up after this many seconds")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    window = MainWindow(recovery_dir=Path(tempfile.mkdtemp()))
    if not window.open_path(args.model, as_example=True):
        return 2
    window.resize(1280, 800)
    window.show()
    wait(0.3)
    node_id, name = args.param.split(".", 1)
    if not window.experiments.sweep(None if node_id == "simulation" else node_id, name):
        print(f"cannot sweep {args.param}", file=sys.stderr)
        return 2
    panel = window.experiments.panel
    panel.from_edit.setText(args.low)
    panel.to_edit.setText(args.high)
    panel.step_edit.setText(args.step)
    panel.reps_box.setValue(args.replications)
    panel.workers_box.setValue(1)
    panel.set_metrics(args.metric or ["mean_response"])
    if args.target:
        metric, value = args.target.split("<=", 1)
        panel.set_target(metric, "<=", float(value))
    panel.run()
    waited = 0.0
    while panel.busy and waited < args.timeout:
        wait(0.25)
        waited += 0.25
    if panel.busy:
        panel.shutdown()
        print(f"the sweep took longer than {args.timeout:g} s", file=sys.stderr)
        return 1
    window.experiments.dock.raise_()
    # The plot is the picture: give the bottom panels most of the window's height.
    window.resizeDocks([window.experiments.dock], [560], Qt.Orientation.Vertical)
    window.scene.select([panel.node_box.currentData()])
    wait(0.5)
    saved = window.grab().save(args.out)
    window.document.undo_stack.setClean()
    window.close()
    app.processEvents()
    print(f"{'wrote' if saved else 'could not write'} {args.out}")
    return 0 if saved else 1


if __name__ == "__main__":
    sys.exit(main())
