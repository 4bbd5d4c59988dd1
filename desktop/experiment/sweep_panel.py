"""The Experiment panel: sweep one parameter of the model and watch its curve fill in.

"Sweep this parameter…" in the inspector opens it on that parameter, with a range prefilled
around the current value inside the parameter's valid range. Run copies the model and runs
the sweep off the GUI thread (:class:`desktop.experiment.runner.SweepThread`) on this computer
(N processes) or a Dask scheduler (its address remembered in QSettings); the plot fills in
point by point, and Cancel stops it. A target ("p99 ≤ 0.2 s") is answered in words. A
finished sweep can be exported (PNG, SVG, CSV), kept with the model (an undoable edit) and
goes into the run history.
"""

from __future__ import annotations

import csv
from typing import Any

from PySide6.QtCore import QSettings, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QWidget,
)

from desktop.commands import SetExperiments
from desktop.document import ModelDocument
from desktop.experiment import sweeps
from desktop.experiment.history import RunHistory
from desktop.experiment.params import SweepTarget, default_range, target_for
from desktop.experiment.plot import METRICS, number
from desktop.experiment.runner import SweepRequest, SweepThread, theory_curve
from desktop.experiment.sweep_form import SCHEDULER_KEY, SweepForm
from engine import experiments as ex
from engine.model.schema import KINDS


def fmt(value: float) -> str:
    """A value as typed in the range fields (no float noise)."""
    return f"{value:.10g}"


class SweepPanel(SweepForm, QWidget):
    """The Experiment dock's contents (see the module's docstring).

    ``sweep_finished(record)`` carries each finished sweep's record (see
    :func:`desktop.experiment.sweeps.record`); ``busy_changed(bool)`` says when one runs.
    """

    sweep_finished = Signal(object)
    busy_changed = Signal(bool)
    message_posted = Signal(str)

    def __init__(self, document: ModelDocument, history: RunHistory | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        self.history = history
        self.target: SweepTarget | None = None
        self.thread: SweepThread | None = None
        self.request: SweepRequest | None = None
        self.record: dict[str, Any] | None = None
        #: The last finished sweep, as the engine returned it.
        self.result: ex.SweepResult | None = None
        self.shown_record: dict[str, Any] | None = None
        self._build()
        document.document_reset.connect(self._document_reset)
        document.experiments_changed.connect(self._fill_kept)
        document.contents_changed.connect(self._fill_nodes)
        self._fill_nodes()
        self._fill_kept()

    # ------------------------------------------------------------ choosing what to sweep
    @property
    def busy(self) -> bool:
        """Whether a sweep is running."""
        return self.thread is not None

    def sweep(self, node_id: str | None, name: str) -> bool:
        """Point the panel at field ``name`` of node ``node_id`` (None: the simulation block),
        prefilling a range around its current value; False if it cannot be swept. While a
        sweep runs the panel stays on it (and says so)."""
        if self.busy:
            self._say("A sweep is running: cancel it, or wait for it, to sweep another parameter.")
            return True
        target = target_for(self.document.model, node_id, name)
        if target is None:
            return False
        self.target = target
        low, high, step = default_range(target)
        self.mode_box.setCurrentIndex(0)
        self.from_edit.setText(fmt(low))
        self.to_edit.setText(fmt(high))
        self.step_edit.setText(fmt(step))
        self.list_edit.setText(", ".join(fmt(v) for v in (low, target.current, high)))
        bounds = self._bounds_text(target)
        self.param_label.setText(
            f"<b>Sweep {target.label}</b> (<code>{target.path}</code>, now {number(target.current, 6)}"
            f"{' ' + target.unit if target.unit else ''}{bounds})"
        )
        stations = [self.node_box.itemData(i) for i in range(self.node_box.count())]
        if target.node in stations:
            self.node_box.setCurrentIndex(stations.index(target.node))
        self._set_error(None)
        self.from_edit.setFocus()
        return True

    def _fill_nodes(self) -> None:
        current = self.node_box.currentData()
        self.node_box.blockSignals(True)
        self.node_box.clear()
        for node in self.document.model.nodes:
            kind = KINDS.get(node.kind)
            if kind is not None and kind.is_station:
                self.node_box.addItem(node.id, node.id)
        index = self.node_box.findData(current)
        self.node_box.setCurrentIndex(max(0, index))
        self.node_box.blockSignals(False)

    def _document_reset(self) -> None:
        self.cancel()
        self.target = None
        self.record = None
        self.param_label.setText("Right-click a number in the Inspector and choose “Sweep this parameter…”.")
        self._fill_nodes()
        self._fill_kept()
        self.keep_button.setEnabled(False)

    # ------------------------------------------------------------ running
    @Slot()
    def run(self) -> None:
        """Start the sweep the form describes (its problems are shown in place)."""
        if self.busy:
            return
        if self.target is None:
            self._set_error("Choose a parameter first: right-click a number in the Inspector, “Sweep this parameter…”.")
            return
        try:
            values = self.values()
        except ex.ExperimentError as exc:
            self._set_error(str(exc))
            return
        node = self.node_box.currentData()
        if node is None:
            self._set_error("The model has no station to measure.")
            return
        model = self.document.model.copy()
        precise = self.reps_mode.currentIndex() == 1
        scheduler = self.scheduler_edit.text().strip() if self.where_box.currentIndex() == 1 else None
        if scheduler:
            QSettings().setValue(SCHEDULER_KEY, scheduler)
        low, high = min(values), max(values)
        request = SweepRequest(
            model=model,
            param=self.target.path,
            values=values,
            replications=None if precise else self.reps_box.value(),
            precision=self.precision_box.value() / 100 if precise else None,
            workers=self.workers_box.value(),
            scheduler=scheduler,
            theory_range=(low, high) if high > low else None,
            integer=self.target.integer,
        )
        self._set_error(None)
        self.request = request
        self.record = None
        self.shown_record = None
        self.answer_label.clear()
        metrics = self.metrics()
        self.plot.configure(
            self.target.label, self.target.unit, node, metrics, self.target.current, (min(values), max(values))
        )
        self._target_changed()
        thread = SweepThread(request, self)
        thread.theory_ready.connect(self._theory_ready)
        thread.point_ready.connect(self._point_ready)
        thread.progressed.connect(lambda f: self.progress.setValue(round(f * 1000)))
        thread.succeeded.connect(self._succeeded)
        thread.failed.connect(self._failed)
        thread.was_cancelled.connect(lambda: self._say("Sweep cancelled."))
        thread.finished.connect(self._thread_finished)
        self.thread = thread
        self._run_metrics = metrics
        self._run_node = node
        self.progress.setValue(0)
        where = f"on {scheduler}" if scheduler else f"in {self.workers_box.value()} process(es)"
        runs = f"to ±{self.precision_box.value():g} %" if precise else f"× {self.reps_box.value()} replications"
        self._say(f"Sweeping {self.target.label} over {len(values)} values {runs} {where}…")
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.keep_button.setEnabled(False)
        self.busy_changed.emit(True)
        self._favour_plot()
        thread.start()

    def _favour_plot(self) -> None:
        """Give most of the panel's height to the plot (the settings scroll above it)."""
        total = sum(self.splitter.sizes())
        if total > 0:
            top = min(self.splitter.sizes()[0], max(90, total // 4))
            self.splitter.setSizes([top, total - top])

    @Slot()
    def cancel(self) -> None:
        """Stop a running sweep (nothing of it is kept)."""
        if self.thread is not None:
            self.thread.cancel()
            self._say("Cancelling…")

    def shutdown(self) -> None:
        """Cancel and wait for the sweep's thread (the window is closing): no thread or
        process is left behind."""
        thread = self.thread
        if thread is not None:
            thread.cancel()
            thread.wait()
            self._thread_finished()

    def _say(self, text: str) -> None:
        self.status_label.setText(text)
        self.message_posted.emit(text)

    def _theory_ready(self, xs: Any, curves: Any) -> None:
        self.plot.set_theory(xs, curves)
        self._drawn()

    @Slot(int, object, int)
    def _point_ready(self, index: int, summary: Any, replications: int) -> None:
        if self.request is None or self.thread is None:
            return
        self.plot.set_point(self.request.values[index], summary, replications)
        self._answer()
        self._drawn()

    def _drawn(self) -> None:
        """Let the sweep's thread go on once the GUI has drawn a point: it holds off from
        sending one until then, so the repaint (many Python calls, each needing the GIL)
        does not compete with it. The zero timer fires after the posted repaint."""
        thread = self.thread
        if thread is not None:
            QTimer.singleShot(0, thread.mark_drawn)

    @Slot(object)
    def _succeeded(self, finished: tuple[ex.SweepResult, dict[str, Any]]) -> None:
        request = self.request
        if request is None or self.target is None:
            return
        self.result, document = finished
        self.plot.set_points([(p["value"], p["nodes"], p["replications"]) for p in document["points"]])
        settings = request.settings()
        name = f"{self.target.label} {fmt(min(request.values))}…{fmt(max(request.values))}"
        self.record = sweeps.record(
            document,
            name=name,
            node=self._run_node,
            metrics=self._run_metrics,
            settings=settings,
            target=self.target_spec(),
        )
        self.shown_record = self.record
        self.keep_button.setEnabled(True)
        self.export_button.setEnabled(True)
        self._answer()
        reps = f"to ±{request.precision * 100:g} %" if request.precision else f"× {request.replications}"
        self._say(f"Finished: {len(request.values)} values {reps} (seed {settings['seed']}).")
        if self.history is not None:
            self._add_to_history(self.record)
        self.sweep_finished.emit(self.record)

    def _add_to_history(self, record: dict[str, Any]) -> None:
        assert self.history is not None
        node = record["node"]
        curves: dict[str, dict[str, list[Any]]] = {}
        results: dict[str, Any] = {}
        for metric in record["metrics"]:
            xs, ys, errs = [], [], []
            for point in record["points"]:
                metrics = point["nodes"].get(node, {})
                xs.append(point["value"])
                ys.append(metrics.get(metric))
                errs.append((metrics.get("ci95") or {}).get(metric))
            curves[f"{node} {METRICS.get(metric, (metric,))[0]}"] = {"x": xs, "y": ys, "err": errs}
        for point in record["points"]:
            results[f"{record['param']} = {point['value']:g}"] = point["nodes"].get(node, {})
        answer = self.answer_label.text()
        self.history.add(
            "sweep",
            f"Sweep of {record['name']}",
            results,
            model=self.request.model if self.request is not None else None,
            curves=curves,
            changes=[f"{record['param']} over {len(record['points'])} values"],
            summary=answer,
        )

    @Slot(str)
    def _failed(self, message: str) -> None:
        self._set_error(f"The sweep failed: {message}")
        self._say("The sweep failed.")

    @Slot()
    def _thread_finished(self) -> None:
        if self.thread is None:
            return
        self.thread.wait()
        self.thread.deleteLater()
        self.thread = None
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.busy_changed.emit(False)

    # ------------------------------------------------------------ target
    def _target_changed(self, *_args: Any) -> None:
        spec = self.target_spec()
        if spec is None:
            self.plot.set_target(None)
            self.answer_label.clear()
            return
        if spec["metric"] not in self.plot.charts and self.plot.charts:
            self.answer_label.setText(f"Tick {METRICS[spec['metric']][0]} and run again to judge the target.")
            return
        self.plot.set_target(spec["metric"], spec["op"], spec["value"])
        self._answer()

    def _answer(self) -> None:
        spec = self.target_spec()
        if spec is None or spec["metric"] not in self.plot.charts:
            return
        xs, means, halves = self.plot.series(spec["metric"])
        label, unit, short = METRICS[spec["metric"]]
        what = self.target.label.split(" ", 1)[-1] if self.target is not None else "value"
        text = sweeps.answer(what, xs, means, halves, metric=short, op=spec["op"], target=spec["value"], unit=unit)
        op = "≤" if spec["op"] == "<=" else "≥"
        self.answer_label.setText(f"Target {short} {op} {spec['value']:g}{' ' + unit if unit else ''}: {text}")

    # ------------------------------------------------------------ keeping and exporting
    @Slot()
    def keep(self) -> None:
        """Keep the finished sweep with the model (an undoable edit)."""
        if self.record is None:
            return
        block = sweeps.with_sweep(self.document.model.experiments, self.record)
        self.document.undo_stack.push(SetExperiments(self.document, block, f"Keep Sweep of {self.record['name']}"))
        self.keep_button.setEnabled(False)
        self._say("Kept with the model: it is saved in the file and shown again when the model is reopened.")

    def _fill_kept(self) -> None:
        self.kept_box.clear()
        kept = sweeps.kept(self.document.model.experiments)
        if not kept:
            self.kept_box.addItem("none kept with this model", None)
            self.kept_box.setEnabled(False)
            return
        self.kept_box.setEnabled(True)
        self.kept_box.addItem(f"{len(kept)} kept with this model — choose one", None)
        for i, sweep in enumerate(kept):
            self.kept_box.addItem(str(sweep.get("name") or sweep["param"]), i)

    def _kept_chosen(self, index: int) -> None:
        i = self.kept_box.itemData(index)
        if i is not None:
            self.show_kept(i)

    def show_kept(self, index: int) -> None:
        """Show sweep ``index`` of those kept with the model."""
        sweep = sweeps.kept(self.document.model.experiments)[index]
        self.show_record(sweep)

    def show_record(self, sweep: dict[str, Any]) -> None:
        """Show a finished sweep's points (kept with the model, or from the history)."""
        node = str(sweep.get("node") or (self.node_box.currentData() or ""))
        metrics = [m for m in sweep.get("metrics", []) if isinstance(m, str)] or ["mean_response"]
        path = str(sweep["param"])
        head, _, rest = path.partition(".")
        node_id = None if head == "simulation" else head
        name = rest.split(".")[0]
        target = target_for(self.document.model, node_id, name)
        label = target.label if target is not None else path
        shown = [float(p["value"]) for p in sweep["points"] if isinstance(p.get("value"), (int, float))]
        self.plot.configure(
            label,
            target.unit if target else "",
            node,
            metrics,
            target.current if target else None,
            (min(shown), max(shown)) if shown else None,
        )
        self.plot.set_points(
            [
                (p["value"], p.get("nodes", {}), p.get("replications", 0))
                for p in sweep["points"]
                if isinstance(p.get("value"), (int, float))
            ]
        )
        values = [float(p["value"]) for p in sweep["points"] if isinstance(p.get("value"), (int, float))]
        if target is not None and len(values) > 1:
            # The smooth curve of the model as it is now (the kept points say what theory was then).
            xs, curves = theory_curve(self.document.model, path, min(values), max(values), target.integer, 60)
            self.plot.set_theory(xs, curves)
        target_spec = sweep.get("target") if isinstance(sweep.get("target"), dict) else None
        if target_spec:
            self.set_target(target_spec.get("metric"), target_spec.get("op", "<="), target_spec.get("value"))
        self.shown_record = sweep
        self.export_button.setEnabled(True)
        self._favour_plot()
        self._target_changed()
        self._say(f"Showing the sweep {sweep.get('name') or path} ({len(sweep['points'])} points).")

    def _export_dialog(self, kind: str) -> None:
        filters = {"png": "PNG image (*.png)", "svg": "SVG image (*.svg)", "csv": "CSV (*.csv)"}
        path, _ = QFileDialog.getSaveFileName(self, "Export sweep", f"sweep.{kind}", filters[kind])
        if path:
            self.export(path)

    def export(self, path: str) -> None:
        """Write the plot (``.png``, ``.svg``) or the points (``.csv``, as ``queuestudio sweep
        --csv`` writes them) of the sweep shown."""
        suffix = path.rsplit(".", 1)[-1].lower()
        if suffix == "png":
            self.plot.export_png(path)
        elif suffix == "svg":
            self.plot.export_svg(path)
        elif suffix == "csv":
            if self.shown_record is None:
                raise ValueError("no finished sweep to export")
            with open(path, "w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow(sweeps.CSV_HEADER)
                writer.writerows(sweeps.csv_rows(self.shown_record))
        else:
            raise ValueError(f"cannot export to .{suffix}: choose .png, .svg or .csv")
        self._say(f"Exported {path}")
