"""Compound inspector fields: the distribution picker and the concurrency editor."""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QGridLayout, QLabel, QLineEdit, QWidget

from desktop.inspector_fields import NONE, Field, JsonField, NumberField, ParseError, format_number, parse_number
from desktop.theme import color_label
from engine.distributions import DISTRIBUTION_FIELDS, from_spec

UNITLESS = {"k", "cv", "alpha"}


def switch_distribution(name: str | None, previous: Any) -> dict[str, Any] | None:
    """A ``name`` distribution with about the mean of ``previous`` (for the picker)."""
    if name is None:
        return None
    try:
        mean = from_spec(previous).mean if previous else 1.0
    except (TypeError, ValueError):
        mean = 1.0
    mean = mean if mean > 0 else 1.0
    starts: dict[str, dict[str, Any]] = {
        "constant": {"value": mean},
        "exponential": {"mean": mean},
        "uniform": {"low": 0.0, "high": 2 * mean},
        "erlang": {"k": 2, "mean": mean},
        "lognormal": {"mean": mean, "cv": 1.0},
        "pareto": {"mean": mean, "alpha": 2.5},
        "empirical": {"values": [mean]},
    }
    fields = starts.get(name, dict.fromkeys(DISTRIBUTION_FIELDS[name], 1.0))
    return {"dist": name, **fields}


class DistributionField(Field):
    """A distribution picker: its kind, its fields, and its mean and coefficient of variation."""

    def __init__(self, nullable: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.value: dict[str, Any] | None = None
        self.combo = QComboBox(self)
        if nullable:
            self.combo.addItem(NONE, None)
        for name in DISTRIBUTION_FIELDS:
            self.combo.addItem(name, name)
        self.grid = QWidget(self)
        self._grid = QGridLayout(self.grid)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self.lines: dict[str, QLineEdit] = {}
        self.stats = QLabel(self)
        color_label(self.stats, "note")
        for widget in (self.combo, self.grid, self.stats, self.error_label):
            self._layout.addWidget(widget)
        self._watch(self.combo)
        self.combo.activated.connect(lambda _i: self._switch())

    def _switch(self) -> None:
        self.edited.emit(switch_distribution(self.combo.currentData(), self.value))

    def _build(self, name: str | None) -> None:
        for line in self.lines.values():
            self._editors.remove(line)
        while (item := self._grid.takeAt(0)) is not None:
            widget = item.widget()
            if widget is not None:
                widget.deleteLater()
        self.lines = {}
        previous: QWidget = self.combo
        for row, key in enumerate(DISTRIBUTION_FIELDS.get(name or "", ())):
            unit = "" if key in UNITLESS else " (s)"
            label = QLabel(f"{key}{unit}", self.grid)
            self._grid.addWidget(label, row, 0)
            line = QLineEdit(self.grid)
            line.setAccessibleName(key)
            self._grid.addWidget(line, row, 1)
            self._watch(line)
            self._typing(line)
            QWidget.setTabOrder(previous, line)
            label.show()
            line.show()
            previous = line
            self.lines[key] = line

    def parsed(self) -> dict[str, Any] | None:
        """The distribution typed (ParseError when a field is not a number)."""
        name = self.combo.currentData()
        if name is None:
            return None
        spec: dict[str, Any] = {"dist": name}
        for key, line in self.lines.items():
            if key == "values":
                spec[key] = [parse_number(v, False, False) for v in line.text().split(",")]
            else:
                spec[key] = parse_number(line.text(), key == "k", False)
        return spec

    def set_value(self, value: Any) -> None:
        name = value.get("dist") if isinstance(value, dict) else None
        if name != self.combo.currentData() or set(self.lines) != set(DISTRIBUTION_FIELDS.get(name or "", ())):
            self.combo.setCurrentIndex(max(self.combo.findData(name), 0))
            self._build(name)
        self.value = value
        try:
            same = self.parsed() == value
        except ParseError:
            same = False
        for key, line in self.lines.items():
            current = value.get(key) if isinstance(value, dict) else None
            shown = (
                ", ".join(format_number(v) for v in current) if isinstance(current, list) else format_number(current)
            )
            if not same:
                line.setText(shown)
        self.set_error(None)
        self.show_stats(value)

    def show_stats(self, value: Any) -> None:
        """Show the mean and coefficient of variation of ``value``."""
        try:
            dist = from_spec(value) if value is not None else None
        except (TypeError, ValueError):
            dist = None
        if dist is None:
            self.stats.setText("")
            self.stats.setVisible(False)
            return
        cv = dist.cv
        self.stats.setText(f"mean {dist.mean:.4g} s · CV {cv:.3g}" if math.isfinite(cv) else f"mean {dist.mean:.4g} s")
        self.stats.setVisible(True)


class ConcurrencyField(Field):
    """A server's concurrency: a fixed number of servers, a dynamic pool or a weighted capacity."""

    MODES = {"fixed": "fixed number", "dynamic": "dynamic (autoscaling)", "weighted": "weighted capacity"}

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox(self)
        for mode, text in self.MODES.items():
            self.combo.addItem(text, mode)
        self.count = NumberField(True, False, "servers, ≥ 1", self)
        self.initial = NumberField(True, False, "≥ 1", self)
        self.minimum = NumberField(True, True, "1", self)
        self.maximum = NumberField(True, True, "unbounded", self)
        self.autoscale = JsonField(self)
        self.total = NumberField(True, False, "≥ 1", self)
        self.weight = DistributionField(True, self)
        self.rows: dict[str, list[tuple[str, Field]]] = {
            "fixed": [("servers", self.count)],
            "dynamic": [
                ("initial", self.initial),
                ("min", self.minimum),
                ("max", self.maximum),
                ("autoscale", self.autoscale),
            ],
            "weighted": [("total capacity", self.total), ("request weight", self.weight)],
        }
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        self._labels: dict[Field, QLabel] = {}
        row = 0
        for fields in self.rows.values():
            for text, field in fields:
                label = QLabel(text, self)
                label.setBuddy(field._editors[0] if field._editors else field)
                grid.addWidget(label, row, 0, Qt.AlignmentFlag.AlignTop)
                grid.addWidget(field, row, 1)
                self._labels[field] = label
                field.edited.connect(lambda _v: self._emit(self.parsed))
                field.rejected.connect(self.rejected)
                field.revert_requested.connect(self.revert_requested)
                for editor in field._editors:
                    self._watch(editor)
                row += 1
        self._layout.addWidget(self.combo)
        self._layout.addLayout(grid)
        self._layout.addWidget(self.error_label)
        self._watch(self.combo)
        self.combo.activated.connect(lambda _i: self.edited.emit(self._switched()))
        self._show_mode("fixed")

    def _show_mode(self, mode: str) -> None:
        for name, fields in self.rows.items():
            for _text, field in fields:
                field.setVisible(name == mode)
                self._labels[field].setVisible(name == mode)

    def _switched(self) -> Any:
        try:
            current = self.parsed()
        except ParseError:
            current = 1
        size = current if isinstance(current, int) else 1
        mode = self.combo.currentData()
        if mode == "dynamic":
            return {"kind": "dynamic", "initial": size, "min": 1, "max": max(size, 4)}
        if mode == "weighted":
            return {"kind": "weighted", "total_capacity": max(size, 1)}
        return size

    def parsed(self) -> Any:
        """The typed concurrency (ParseError when a number is malformed)."""
        mode = self.combo.currentData()
        if mode == "fixed":
            return self.count.parsed()
        if mode == "weighted":
            out: dict[str, Any] = {"kind": "weighted", "total_capacity": self.total.parsed()}
            weight = self.weight.parsed()
            return {**out, "weight": weight} if weight is not None else out
        out = {"kind": "dynamic", "initial": self.initial.parsed()}
        for key, field in (("min", self.minimum), ("max", self.maximum), ("autoscale", self.autoscale)):
            value = field.parsed()
            if value is not None:
                out[key] = value
        return out

    def set_value(self, value: Any) -> None:
        if isinstance(value, dict) and value.get("kind") == "fixed":
            value = value.get("c", 1)
        mode = value.get("kind", "dynamic") if isinstance(value, dict) else "fixed"
        self.combo.setCurrentIndex(max(self.combo.findData(mode), 0))
        self._show_mode(mode)
        if mode == "fixed":
            self.count.set_value(value)
        elif mode == "weighted":
            self.total.set_value(value.get("total_capacity"))
            self.weight.set_value(value.get("weight"))
        else:
            self.initial.set_value(value.get("initial"))
            self.minimum.set_value(value.get("min"))
            self.maximum.set_value(value.get("max"))
            self.autoscale.set_value(value.get("autoscale"))
        self.set_error(None)
