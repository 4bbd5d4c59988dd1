"""Typed editor fields for the inspector: numbers, choices, text, profiles, small JSON objects.

A field parses what the user types and emits ``edited(value)`` only for text that parses;
the inspector then validates the value against the engine and either commits it or calls
``set_error`` to show the message in place. ``set_value`` shows a document value without
disturbing text that already means the same thing. ``session`` changes each time the field
gains focus, so the edits of one visit merge into one undo step.

Typed text is applied keystroke by keystroke, except while a field is ``deferred`` (during a
run, where every applied value is a live change to the simulation): then it is applied on
Enter or when the field loses focus, Escape takes it back, and until then the field says
that what is typed is not applied yet.
"""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QPalette
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QPlainTextEdit, QVBoxLayout, QWidget

from desktop.theme import color_label, follow_palette, mix, status_color

_sessions = itertools.count(1)
NONE = "none"


def error_style(field: QWidget) -> str:
    """The style sheet of an editor whose text is not valid: an error-red border and a
    faint red tint of its own background, in the current palette (light or dark)."""
    base = field.palette().color(QPalette.ColorRole.Base)
    red = status_color("error", base)
    return f"border: 1px solid {red.name()}; background: {mix(base, red, 0.12).name()};"


class ParseError(ValueError):
    """Text that is not a value of the field's type."""


def format_number(value: Any) -> str:
    """A number as the user would type it ("" for None)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return f"{value:.1f}"
    return repr(value) if isinstance(value, float) else str(value)


def parse_number(text: str, integer: bool, nullable: bool) -> int | float | None:
    """``text`` as an int or finite float; "" is None when ``nullable``. Raises ParseError."""
    text = text.strip()
    if not text:
        if nullable:
            return None
        raise ParseError("a value is required")
    try:
        value: int | float = int(text) if integer else float(text)
    except ValueError:
        raise ParseError(f"{text!r} is not {'a whole number' if integer else 'a number'}") from None
    if not math.isfinite(value):
        raise ParseError("must be a finite number")
    return value


class Field(QWidget):
    """Base of the fields: an editor row and an error line under it."""

    edited = Signal(object)
    rejected = Signal()
    #: Escape pressed over typed text that was not applied: show the document's value again.
    revert_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = next(_sessions)
        self.error_label = QLabel(self)
        self.error_label.setWordWrap(True)
        color_label(self.error_label, "error")
        self.error_label.hide()
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(2)
        self._editors: list[QWidget] = []
        self.deferred = False
        self._pending = False
        self.pending_label = QLabel("not applied yet: Enter applies, Esc reverts", self)
        color_label(self.pending_label, "note", "font-style: italic;")
        self.pending_label.hide()
        follow_palette(self, self._restyle)

    def _watch(self, editor: QWidget) -> None:
        editor.installEventFilter(self)
        self._editors.append(editor)
        if isinstance(editor, QComboBox):
            # Let a narrow inspector squeeze the combo instead of scrolling sideways.
            editor.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            editor.setMinimumContentsLength(8)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FocusIn:
            self.session = next(_sessions)
        elif (
            self._pending
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
        ):
            self._set_pending(False)
            self.set_error(None)
            self.revert_requested.emit()
            return True
        return super().eventFilter(watched, event)

    # ------------------------------------------------------ typing and applying
    @property
    def pending(self) -> bool:
        """Whether typed text waits for Enter or focus out to be applied (deferred mode)."""
        return self._pending

    def set_deferred(self, deferred: bool) -> None:
        """Apply typed text on Enter / focus out (True) or on every keystroke (False), here and
        in the fields inside this one. Text waiting to be applied is applied when it turns off."""
        for field in [self, *self.findChildren(Field)]:
            field.deferred = deferred
            if not deferred:
                field._finished()

    def _typing(self, editor: QLineEdit) -> None:
        """Wire a line editor's typing to :meth:`_typed` and Enter / focus out to :meth:`_finished`."""
        editor.textEdited.connect(lambda _t: self._typed())
        editor.editingFinished.connect(self._finished)

    def _typed(self) -> None:
        if not self.deferred:
            self._emit(self.parsed)
            return
        try:
            self.parsed()
        except ParseError as exc:
            self.set_error(str(exc))
        else:
            self.set_error(None)
        self._set_pending(True)

    def _finished(self) -> None:
        if self._pending:
            self._set_pending(False)
            self._emit(self.parsed)

    def _set_pending(self, pending: bool) -> None:
        self._pending = pending
        if pending and self._layout.indexOf(self.pending_label) < 0:
            self._layout.addWidget(self.pending_label)
        self.pending_label.setVisible(pending)

    @property
    def error(self) -> str | None:
        """The message shown, or None."""
        return self.error_label.text() if self.error_label.isVisibleTo(self) else None

    def _restyle(self) -> None:
        """The error tint follows a live light/dark switch."""
        if self.error_label.text():
            for editor in self._editors:
                if isinstance(editor, QLineEdit):
                    editor.setStyleSheet(error_style(self))

    def set_error(self, message: str | None) -> None:
        """Show ``message`` under the field (None clears it)."""
        self.error_label.setText(message or "")
        self.error_label.setVisible(bool(message))
        for editor in self._editors:
            if isinstance(editor, QLineEdit):
                editor.setStyleSheet(error_style(self) if message else "")

    def set_value(self, value: Any) -> None:
        """Show a document value."""
        raise NotImplementedError

    def parsed(self) -> Any:
        """The value typed (ParseError if it is not one)."""
        raise NotImplementedError

    def shows(self, value: Any) -> bool:
        """Whether what is typed already means ``value``: then ``set_value`` leaves the text
        as the user typed it (``1.50`` stays, not reformatted to ``1.5`` mid-edit)."""
        try:
            return bool(self.parsed() == value)
        except ParseError:
            return False

    def focus_editor(self) -> None:
        """Give the keyboard focus to the first editor."""
        if self._editors:
            self._editors[0].setFocus(Qt.FocusReason.OtherFocusReason)

    def _emit(self, parse: Any) -> None:
        try:
            value = parse()
        except ParseError as exc:
            self.set_error(str(exc))
            self.rejected.emit()
            return
        self.edited.emit(value)


class NumberField(Field):
    """A number; up/down step whole numbers; empty means None when ``nullable``."""

    def __init__(self, integer: bool, nullable: bool, placeholder: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.integer, self.nullable = integer, nullable
        self.line = QLineEdit(self)
        self.line.setPlaceholderText(placeholder)
        self.line.setInputMethodHints(Qt.InputMethodHint.ImhFormattedNumbersOnly)
        self._layout.addWidget(self.line)
        self._layout.addWidget(self.error_label)
        self._watch(self.line)
        self._typing(self.line)

    def parsed(self) -> int | float | None:
        """The typed value (ParseError if it is not one)."""
        return parse_number(self.line.text(), self.integer, self.nullable)

    def set_value(self, value: Any) -> None:
        if self.shows(value):
            return
        self.line.setText(format_number(value))
        self.set_error(None)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.line
            and self.integer
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down)
        ):
            try:
                current = self.parsed() or 0
            except ParseError:
                return True
            self.line.setText(str(int(current) + (1 if event.key() == Qt.Key.Key_Up else -1)))
            self._set_pending(False)
            self._emit(self.parsed)
            return True
        return super().eventFilter(watched, event)


class ChoiceField(Field):
    """One of ``choices`` (plus "none" when ``nullable``)."""

    def __init__(self, choices: tuple[str, ...], nullable: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox(self)
        if nullable:
            self.combo.addItem(NONE, None)
        for choice in choices:
            self.combo.addItem(choice.replace("_", " "), choice)
        self._layout.addWidget(self.combo)
        self._layout.addWidget(self.error_label)
        self._watch(self.combo)
        self.combo.activated.connect(lambda _i: self.edited.emit(self.combo.currentData()))

    def set_value(self, value: Any) -> None:
        # Only a name (or None) can be one of the choices; a file may hold anything (10**30
        # would overflow Qt's lookup).
        index = self.combo.findData(value) if value is None or isinstance(value, str) else -1
        self.combo.setCurrentIndex(max(index, 0))


class TextField(Field):
    """Free text: emits on every keystroke, or only when finished (Enter, focus out)."""

    def __init__(self, on_finish: bool = False, multiline: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor: QLineEdit | QPlainTextEdit
        if multiline:
            self.editor = QPlainTextEdit(self)
            self.editor.setTabChangesFocus(True)
            self.editor.setMaximumHeight(72)
            self.editor.textChanged.connect(lambda: self._emit(self.parsed))
        else:
            self.editor = QLineEdit(self)
            if on_finish:
                self.editor.editingFinished.connect(lambda: self._emit(self.parsed))
            else:
                self._typing(self.editor)
        self._layout.addWidget(self.editor)
        self._layout.addWidget(self.error_label)
        self._watch(self.editor)

    @property
    def line(self) -> QLineEdit:
        """The one-line editor (TypeError for a multi-line field)."""
        if not isinstance(self.editor, QLineEdit):
            raise TypeError("a multi-line field has no line editor")
        return self.editor

    def parsed(self) -> Any:
        """The value typed (here the text itself; subclasses parse it)."""
        return self.text()

    def text(self) -> str:
        """The text typed."""
        editor = self.editor
        return editor.toPlainText() if isinstance(editor, QPlainTextEdit) else editor.text()

    def set_value(self, value: Any) -> None:
        text = "" if value is None else str(value)
        if text == self.text():
            return
        if isinstance(self.editor, QPlainTextEdit):
            self.editor.blockSignals(True)
            self.editor.setPlainText(text)
            self.editor.blockSignals(False)
        else:
            self.editor.setText(text)
            self.editor.setCursorPosition(0)


class ProfileField(TextField):
    """A piecewise-constant rate profile typed as ``t:rate, t:rate`` (empty = none)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent)
        self.line.setPlaceholderText("none — e.g. 0:0.5, 600:0.9")

    def parsed(self) -> list[list[float | int | None]] | None:
        """The typed profile as ``[[t, rate], …]`` (ParseError if malformed)."""
        text = self.text().strip()
        if not text:
            return None
        pairs = []
        for chunk in text.split(","):
            t, sep, rate = chunk.partition(":")
            if not sep:
                raise ParseError(f"write each step as time:rate, got {chunk.strip()!r}")
            pairs.append([parse_number(t, False, False), parse_number(rate, False, False)])
        return pairs

    def set_value(self, value: Any) -> None:
        if self.shows(value):
            return
        try:
            text = ", ".join(f"{t:g}:{r:g}" for t, r in value) if isinstance(value, list) else ""
        except (TypeError, ValueError):  # a malformed profile opened from a file: shown as written
            text = json.dumps(value)
        super().set_value(text)


class JsonField(TextField):
    """A small JSON object typed in place (empty = none), for rarely used nested settings."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent)
        self.line.setPlaceholderText("none")

    def parsed(self) -> Any:
        """The typed JSON (ParseError if malformed)."""
        text = self.text().strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ParseError(f"not valid JSON: {exc}") from None

    def set_value(self, value: Any) -> None:
        if self.shows(value):
            return
        super().set_value("" if value is None else json.dumps(value))
