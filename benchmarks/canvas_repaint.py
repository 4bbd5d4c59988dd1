"""How long the canvas takes to load and fully repaint a 300-node, 400-link model.

Run: ``python benchmarks/canvas_repaint.py [--repeats N]`` (offscreen unless
``QT_QPA_PLATFORM`` says otherwise). It builds a grid of 10 rows × 30 columns (sources,
servers, sinks) with 290 straight and 110 diagonal links, loads it into the editor's scene
and view, fits it to a 1600×1000 viewport, and renders the whole view into a QImage N
times, then repaints the viewport itself as the screen would (item caches in use). Prints
the load time and the time per full repaint. Not a test: no assertion.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QRectF, Qt  # noqa: E402
from PySide6.QtGui import QColor, QImage, QPainter  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from desktop.canvas import CanvasScene, CanvasView  # noqa: E402
from desktop.document import ModelDocument  # noqa: E402
from engine.model import Link, Model, Node  # noqa: E402

ROWS, COLUMNS = 10, 30
DIAGONALS = 110


def big_model() -> Model:
    """Sources in the first column, sinks in the last, servers between: 300 nodes, 400 links."""

    def name(col: int, row: int) -> str:
        return f"n{col}_{row}"

    nodes = []
    for col in range(COLUMNS):
        kind = "source" if col == 0 else "sink" if col == COLUMNS - 1 else "server"
        for row in range(ROWS):
            params = (
                {"rate": 0.1}
                if kind == "source"
                else {}
                if kind == "sink"
                else {"concurrency": 2, "service_time": {"dist": "exponential", "mean": 0.5}}
            )
            nodes.append(Node(name(col, row), kind, (col * 240.0, row * 120.0), params))
    diagonal = {(col, row) for col in range(COLUMNS - 1) for row in range(ROWS)}
    chosen = sorted(diagonal)[:: max(1, len(diagonal) // DIAGONALS)][:DIAGONALS]
    links = []
    for col in range(COLUMNS - 1):
        for row in range(ROWS):
            split = (col, row) in chosen
            links.append(Link(name(col, row), name(col + 1, row), 0.5 if split else None))
            if split:
                links.append(Link(name(col, row), name(col + 1, (row + 1) % ROWS), 0.5))
    return Model(name="benchmark", nodes=nodes, links=links)


def main() -> None:
    """Time loading and repainting; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    model = big_model()
    started = time.perf_counter()
    document = ModelDocument(model)
    scene = CanvasScene(document)
    view = CanvasView(scene)
    view.resize(1600, 1000)
    view.show()
    app.processEvents()
    view.fit_to_view()
    loaded = time.perf_counter() - started
    image = QImage(view.viewport().size(), QImage.Format.Format_ARGB32_Premultiplied)
    times = []
    for _ in range(args.repeats + 1):
        image.fill(QColor("white"))
        painter = QPainter(image)
        painter.setRenderHints(view.renderHints())
        begin = time.perf_counter()
        view.render(painter, QRectF(image.rect()), view.viewport().rect(), Qt.AspectRatioMode.IgnoreAspectRatio)
        painter.end()
        times.append(time.perf_counter() - begin)
    on_screen = []
    for _ in range(args.repeats):
        view.viewport().update()
        begin = time.perf_counter()
        view.viewport().repaint()
        on_screen.append(time.perf_counter() - begin)
    first, rest = times[0], times[1:]
    print(
        f"model: {len(model.nodes)} nodes, {len(model.links)} links; view {view.viewport().width()}×"
        f"{view.viewport().height()} at {view.zoom * 100:.0f} %"
    )
    print(f"load into scene and view: {loaded * 1000:.0f} ms")
    print(
        f"full repaint: first {first * 1000:.1f} ms, then median {statistics.median(rest) * 1000:.1f} ms "
        f"(min {min(rest) * 1000:.1f}, max {max(rest) * 1000:.1f}) over {len(rest)} repaints"
    )
    print(f"viewport repaint as on screen (item caches warm): median {statistics.median(on_screen) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
