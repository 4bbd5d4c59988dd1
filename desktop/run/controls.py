"""Run controls: Run / Pause / Step / Stop actions, the speed slider, the seed, end time and
warm-up fields, and the run's progress. The fields only report edits (``setting_edited``);
the controller turns them into undoable commands on the document.

Progress is the share of the simulated time done, shown with as many digits as it takes to
move (``0.000042 %`` for an end time of 10^15 s), beside the simulated time, the events
processed per wall second and an estimate of the wall time left."""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QDoubleSpinBox,
    QLabel,
    QMenu,
    QProgressBar,
    QSlider,
    QSpinBox,
    QStatusBar,
    QStyle,
    QToolBar,
    QToolButton,
    QWidget,
)

from desktop.run.worker import FAST
from engine.model import SimulationSettings
from engine.model.document import AUTO_WARMUP

#: Speeds of the slider positions, simulated s per wall s (1-2-5 steps); one more position is FAST.
SPEEDS = tuple(m * 10.0**e for e in range(-1, 4) for m in (1, 2, 5)) + (10_000.0,)
SPEED_STEPS = len(SPEEDS)
#: Largest end time and warm-up the fields accept (a model's larger value is shown clamped
#: but never written back unless the user types a new one).
MAX_SECONDS = 1e18
#: Steps of the progress bar (its text gives the exact share).
PROGRESS_STEPS = 10_000


def speed_for(position: int) -> float:
    """The speed factor of a slider position (0 → 0.1×, 3 → real time, the last → as fast as possible)."""
    return FAST if position >= SPEED_STEPS else SPEEDS[max(position, 0)]


def position_for(speed: float) -> int:
    """The slider position nearest to ``speed`` (on a log scale)."""
    if math.isinf(speed):
        return SPEED_STEPS
    return min(range(SPEED_STEPS), key=lambda i: abs(math.log(SPEEDS[i] / speed)))


def speed_text(speed: float) -> str:
    """How the toolbar shows a speed: ``max``, ``real time`` or ``12×``."""
    if math.isinf(speed):
        return "max"
    return "real time" if abs(speed - 1.0) < 1e-9 else f"{speed:g}×"


#: Default relative precision (percent) of Run Until Precise.
DEFAULT_PRECISION = 2.0


class RunControls(QObject):
    """The actions and widgets of the run toolbar; :meth:`add_to` puts them on a QToolBar.

    Signals: ``run_requested``, ``pause_requested``, ``step_requested``, ``stop_requested``,
    ``precise_requested`` (Run Until Precise, at :attr:`precision` of ``precision_box``),
    ``speed_changed(float)`` and ``setting_edited(name, value)`` when the user changed a
    field to a value other than the document's.
    """

    run_requested = Signal()
    pause_requested = Signal()
    step_requested = Signal()
    stop_requested = Signal()
    replications_requested = Signal()
    precise_requested = Signal()
    speed_changed = Signal(float)
    setting_edited = Signal(str, object)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        style = parent.style()
        icon = QStyle.StandardPixmap
        self.run_action = self._action(parent, "Run", "F5", style.standardIcon(icon.SP_MediaPlay), self.run_requested)
        self.pause_action = self._action(
            parent, "Pause", "F6", style.standardIcon(icon.SP_MediaPause), self.pause_requested
        )
        self.step_action = self._action(
            parent, "Step", "F10", style.standardIcon(icon.SP_MediaSkipForward), self.step_requested
        )
        self.stop_action = self._action(
            parent, "Stop", "Shift+F5", style.standardIcon(icon.SP_MediaStop), self.stop_requested
        )
        self.replications_action = self._action(
            parent,
            "Run Replications…",
            "Ctrl+Shift+R",
            style.standardIcon(icon.SP_BrowserReload),
            self.replications_requested,
        )
        self.replications_action.setToolTip(
            "Run independent replications and show each metric's mean ± 95 % confidence half-width (Ctrl+Shift+R)"
        )
        self.precise_action = self._action(
            parent,
            "Run Until Precise",
            "Ctrl+F5",
            style.standardIcon(icon.SP_DialogApplyButton),
            self.precise_requested,
        )
        self.precise_action.setToolTip(
            "Run until every station's L and W are known within the chosen relative precision "
            "(95 % half-width), then stop (Ctrl+F5)"
        )
        self.precision_box = QDoubleSpinBox()
        self.precision_box.setRange(0.1, 50.0)
        self.precision_box.setDecimals(1)
        self.precision_box.setSingleStep(0.5)
        self.precision_box.setValue(DEFAULT_PRECISION)
        self.precision_box.setSuffix(" %")
        self.precision_box.setFixedWidth(72)
        self.precision_box.setToolTip("Relative precision Run Until Precise aims at: 95 % half-width / value")
        self.speed_slider = QSlider(Qt.Orientation.Horizontal)
        self.speed_slider.setRange(0, SPEED_STEPS)
        self.speed_slider.setFixedWidth(140)
        self.speed_slider.setToolTip("Simulated seconds per wall second: 0.1× (slow motion) … real time … max")
        self.speed_label = QLabel()
        self.speed_label.setMinimumWidth(64)
        self.speed_slider.valueChanged.connect(self._speed_moved)
        self.speed_slider.setValue(SPEED_STEPS)
        self.seed_box = QSpinBox()
        self.seed_box.setRange(-1, 2**31 - 1)
        self.seed_box.setSpecialValueText("random")
        self.seed_box.setToolTip("Random seed (lowest value: a fresh random seed each run)")
        self.end_box = self._seconds_box("Simulated end time (s)", 1e-3)
        self.warmup_box = self._seconds_box(
            "Warm-up (s): statistics start after it; a change applies to the run shown, from its exact totals", 0.0
        )
        self.auto_warmup_button = QToolButton()
        self.auto_warmup_button.setText("Auto")
        self.auto_warmup_button.setCheckable(True)
        self.auto_warmup_button.setToolTip(
            "Automatic warm-up: the run cuts where MSER-5 says the start-up transient ends (an undoable edit)"
        )
        self.auto_warmup_button.toggled.connect(self._auto_toggled)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, PROGRESS_STEPS)
        self.progress_bar.setFixedWidth(120)
        self.progress_action: QAction | None = None  # the progress bar's place on the toolbar
        self.progress_label = QLabel()
        self.progress_label.setToolTip("Simulated time reached, events per wall second, and wall time left")
        self._settings = SimulationSettings()
        self._shown: dict[str, Any] = {}
        for name, box in self._fields().items():
            box.editingFinished.connect(lambda n=name: self._edited(n))
        self.set_state("idle")
        self.clear_progress()

    @staticmethod
    def _action(parent: QWidget, text: str, key: str, icon: Any, signal: Any) -> QAction:
        action = QAction(icon, text, parent)
        action.setShortcut(QKeySequence(key))
        action.setToolTip(f"{text} ({key})")
        action.triggered.connect(signal.emit)
        parent.addAction(action)
        return action

    @staticmethod
    def _seconds_box(tip: str, minimum: float) -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setRange(minimum, MAX_SECONDS)
        box.setDecimals(3)
        box.setFixedWidth(120)
        box.setSuffix(" s")
        box.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.NoButtons)
        box.setToolTip(tip)
        return box

    def _fields(self) -> dict[str, QSpinBox | QDoubleSpinBox]:
        return {"seed": self.seed_box, "end_time": self.end_box, "warmup": self.warmup_box}

    def add_to(self, toolbar: QToolBar) -> None:
        """Put the actions and fields on ``toolbar``."""
        for action in (self.run_action, self.pause_action, self.step_action, self.stop_action):
            toolbar.addAction(action)
        toolbar.addAction(self.replications_action)
        toolbar.addAction(self.precise_action)
        toolbar.addWidget(self.precision_box)
        toolbar.addSeparator()
        toolbar.addWidget(QLabel(" Speed "))
        toolbar.addWidget(self.speed_slider)
        toolbar.addWidget(self.speed_label)
        toolbar.addSeparator()
        for label, box in (("Seed", self.seed_box), ("End", self.end_box), ("Warm-up", self.warmup_box)):
            toolbar.addWidget(QLabel(f" {label} "))
            toolbar.addWidget(box)
        toolbar.addWidget(self.auto_warmup_button)
        toolbar.addSeparator()
        self.progress_action = toolbar.addWidget(self.progress_bar)

    def add_to_status_bar(self, status_bar: QStatusBar) -> None:
        """Put the progress text (simulated time, pace, time left) on ``status_bar``."""
        status_bar.addPermanentWidget(self.progress_label)

    def add_to_menu(self, menu: QMenu) -> None:
        """Put the actions into ``menu`` (the Run menu)."""
        menu.addActions([self.run_action, self.pause_action, self.step_action, self.stop_action])
        menu.addSeparator()
        menu.addAction(self.replications_action)
        menu.addAction(self.precise_action)

    @property
    def precision(self) -> float:
        """The relative precision Run Until Precise aims at (0.02 for 2 %)."""
        return self.precision_box.value() / 100.0

    @property
    def speed(self) -> float:
        """The speed chosen on the slider (simulated s per wall s, or FAST)."""
        return speed_for(self.speed_slider.value())

    def set_speed(self, speed: float) -> None:
        """Move the slider to the position nearest ``speed``."""
        self.speed_slider.setValue(position_for(speed))

    def load_settings(self, settings: SimulationSettings) -> None:
        """Show the document's settings in the fields."""
        self._settings = SimulationSettings(settings.end_time, settings.warmup, settings.seed, settings.sample_interval)
        self._settings.auto_warmup = settings.auto_warmup
        self.seed_box.setValue(-1 if settings.seed is None else int(settings.seed))
        self.end_box.setValue(settings.end_time)
        self.warmup_box.setValue(settings.warmup)
        self.auto_warmup_button.blockSignals(True)
        self.auto_warmup_button.setChecked(settings.auto_warmup)
        self.auto_warmup_button.blockSignals(False)
        self.warmup_box.setSpecialValueText("auto" if settings.auto_warmup else "")
        self._shown = {name: box.value() for name, box in self._fields().items()}

    def set_state(self, state: str) -> None:
        """Enable what makes sense in ``state``: idle, running, paused, finished, stopped or failed."""
        active = state in ("running", "paused")
        self.run_action.setEnabled(state != "running")
        self.precise_action.setEnabled(state != "running")
        self.precision_box.setEnabled(state != "running")
        self.pause_action.setEnabled(state == "running")
        self.step_action.setEnabled(True)
        self.stop_action.setEnabled(active)
        for name, box in self._fields().items():
            box.setEnabled(not active or name == "warmup")  # a new warm-up applies to a run going too

    def _speed_moved(self, position: int) -> None:
        speed = speed_for(position)
        self.speed_label.setText(speed_text(speed))
        self.speed_changed.emit(speed)

    def show_progress(
        self, now: float, end_time: float, events_per_s: float | None = None, sim_per_s: float | None = None
    ) -> None:
        """Show that the run reached simulated time ``now`` of ``end_time``; with the rates
        (events and simulated seconds per wall second) of a running run, also the pace and
        the wall time left."""
        fraction = min(max(now / end_time, 0.0), 1.0) if end_time > 0 else 1.0
        self.progress_bar.setValue(round(fraction * PROGRESS_STEPS))
        self.progress_bar.setFormat(percent_text(fraction))
        detail = progress_text(now, end_time, events_per_s, sim_per_s)
        self.progress_label.setText(" " + detail)
        self.progress_bar.setToolTip(f"{percent_text(fraction)} of the simulated time done: {detail}")

    def clear_progress(self) -> None:
        """No run: an empty bar and no text."""
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("")
        self.progress_bar.setToolTip("Share of the simulated time (up to the end time) done")
        self.progress_label.setText("")

    def _edited(self, name: str) -> None:
        box = self._fields()[name]
        value: Any = box.value()
        if value == self._shown.get(name):
            return  # unchanged (a value beyond the field's range stays the document's)
        if name == "seed":
            value = None if value < 0 else int(value)
        if value != getattr(self._settings, name) or (name == "warmup" and self._settings.auto_warmup):
            self.setting_edited.emit(name, value)

    def _auto_toggled(self, on: bool) -> None:
        self.setting_edited.emit("warmup", AUTO_WARMUP if on else self.warmup_box.value())


def percent_text(fraction: float) -> str:
    """A share of the run as a percentage precise enough to move: ``42.0 %``, ``0.0031 %``,
    ``4.2e-08 %``."""
    percent = 100.0 * fraction
    if percent >= 1.0 or percent == 0.0:
        return f"{percent:.1f} %"
    if percent >= 1e-4:
        return f"{percent:.2g} %" if percent >= 0.01 else f"{percent:.6f}".rstrip("0") + " %"
    return f"{percent:.2g} %"


def progress_text(now: float, end_time: float, events_per_s: float | None, sim_per_s: float | None) -> str:
    """``t = 1.2e+06 s of 1e+15 s · 850,000 events/s · about 264 years left`` (the time with
    six digits, so that it moves even when a dense stretch advances it slowly)."""
    parts = [f"t = {now:.6g} s of {end_time:.6g} s"]
    if events_per_s is not None and math.isfinite(events_per_s):
        parts.append(f"{events_per_s:,.0f} events/s")
    if sim_per_s is not None and sim_per_s > 0 and now < end_time:
        parts.append(f"about {duration_text((end_time - now) / sim_per_s)} left")
    return " · ".join(parts)


def duration_text(seconds: float) -> str:
    """A wall duration in the largest unit that fits: ``40 s``, ``12 min``, ``3.5 h``,
    ``20 days``, ``31 years``, ``2.1e+09 years``."""
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= 2 * size:
            value = seconds / size
            return f"{value:,.0f} {unit}" if value < 1e9 else f"{value:.2g} {unit}"
    return f"{seconds:.0f} s"
