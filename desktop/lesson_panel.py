"""The lesson panel: a guided path through the open model's ``lesson`` block.

The panel is a view over the document (see :mod:`engine.model.lesson` for the block): it
shows the current step's explanation, the action asked of the student and whether it is
done, and a predict-then-run question. The student types a guess and locks it in (Enter),
runs the model, and sees the guess beside theory (:func:`engine.theory.metric_value`
on the model as it was run) and the simulation (the finished run's results). Back and Next
move between steps; every answer stays in the table below for the rest of the session, also
when the lesson is left and started again.

Actions are detected from the document (its contents and settings signals: whatever the
student edits, by inspector, keyboard, undo or redo) and from the live run (a run that
finished while the step was shown). :mod:`desktop.lessons` puts the panel into a main
window as a dock with a Help ▸ Lessons menu.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDoubleValidator
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.document import ModelDocument
from engine import theory
from engine.model import Model
from engine.model.lesson import (
    Lesson,
    Step,
    describe_action,
    lesson_problems,
    read_lesson,
    set_done,
    simulated_value,
)

if TYPE_CHECKING:
    from desktop.run.controller import LiveRunController
    from desktop.run.worker import RunBatch

#: Run states after which Run starts a new run (rather than resuming one).
_IDLE_STATES = ("idle", "stopped", "finished", "failed")


@dataclass
class Answer:
    """The student's answer to one step's question, and what theory and the run said."""

    question: str
    metric: str
    unit: str
    guess: float
    theory: float | str | None = None
    simulated: float | None = None
    note: str = ""

    @property
    def compared(self) -> bool:
        """Whether a run finished after the guess was locked in."""
        return self.theory is not None or self.simulated is not None


def number_text(value: float | str | None, unit: str = "") -> str:
    """A value as the panel shows it: three significant digits and the unit; a reason as is."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return f"not solved: {value}"
    if not math.isfinite(value):
        return "∞" if value > 0 else str(value)
    text = f"{value:.3g}"
    return f"{text} {unit}".strip()


class LessonPanel(QWidget):
    """Shows one lesson of the open document, a step at a time.

    ``step_changed(index)`` after Back, Next or a new lesson; ``answer_changed(index)`` when
    a guess is locked in or compared with a finished run; ``action_completed(text)`` when
    the student has just done what the step asks (the window shows it on the status bar).
    """

    step_changed = Signal(int)
    answer_changed = Signal(int)
    action_completed = Signal(str)

    def __init__(
        self, document: ModelDocument, live_run: LiveRunController | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setAccessibleName("Lesson")
        self.document = document
        self.lesson: Lesson | None = None
        self.index = 0
        #: Answers per lesson (model name, lesson title) and step, kept for the session.
        self.answers: dict[tuple[str, str], dict[int, Answer]] = {}
        self._runs_started = 0  # runs started since the panel exists
        self._locked_at: dict[tuple[str, str, int], int] = {}  # (lesson, step) → runs started at its guess
        self._ran_in_step = False
        self._add_baseline = 0
        self._run_model: Model | None = None
        self._run_changed = False
        self._run_state = "idle"
        self._was_done = False
        self.problems: list[str] = []
        self._build()
        document.contents_changed.connect(self._refresh_action)
        document.settings_changed.connect(self._refresh_action)
        document.document_reset.connect(self.load)
        if live_run is not None:
            live_run.state_changed.connect(self._run_state_changed)
            live_run.batch_received.connect(self._batch)
        self.load()

    # ------------------------------------------------------------ widgets
    def _build(self) -> None:
        self.title_label = QLabel()
        self.title_label.setWordWrap(True)
        self.title_label.setStyleSheet("font-weight: bold; font-size: 13pt")
        self.progress_label = QLabel()
        self.text_label = QLabel()
        self.text_label.setWordWrap(True)
        self.text_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text_label.setAccessibleName("Step explanation")
        self.action_label = QLabel()
        self.action_label.setWordWrap(True)
        self.action_label.setAccessibleName("What to do")
        self.action_label.setStyleSheet("font-weight: bold")
        self.question_label = QLabel()
        self.question_label.setWordWrap(True)
        self.guess_field = QLineEdit()
        self.guess_field.setAccessibleName("Your guess")
        self.guess_field.setPlaceholderText("Type a number, then Enter")
        validator = QDoubleValidator(self.guess_field)
        validator.setNotation(QDoubleValidator.Notation.ScientificNotation)
        self.guess_field.setValidator(validator)
        self.guess_field.returnPressed.connect(self.lock_guess)
        self.unit_label = QLabel()
        self.lock_button = QPushButton("&Lock in guess")
        self.lock_button.setToolTip("Keep this guess, then press Run (F5) to compare it with theory and simulation")
        self.lock_button.clicked.connect(self.lock_guess)
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_label.setAccessibleName("Your guess, theory and simulation")
        self.back_button = QPushButton("&Back")
        self.back_button.setToolTip("The previous step (Alt+B)")
        self.back_button.clicked.connect(self.back)
        self.next_button = QPushButton("&Next")
        self.next_button.setToolTip("The next step (Alt+N)")
        self.next_button.clicked.connect(self.next)
        self.answers_table = QTableWidget(0, 4)
        self.answers_table.setAccessibleName("Your answers")
        self.answers_table.setHorizontalHeaderLabels(["Question", "Your guess", "Theory", "Simulation"])
        self.answers_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.answers_table.setWordWrap(True)
        self.answers_table.setMinimumHeight(80)
        self.answers_table.verticalHeader().hide()
        self.answers_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2, 3):
            self.answers_table.horizontalHeader().setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)

        guess_row = QHBoxLayout()
        guess_row.addWidget(self.guess_field, 1)
        guess_row.addWidget(self.unit_label)
        guess_row.addWidget(self.lock_button)
        self.predict_box = QWidget()
        predict = QVBoxLayout(self.predict_box)
        predict.setContentsMargins(0, 0, 0, 0)
        predict.addWidget(self.question_label)
        predict.addLayout(guess_row)
        predict.addWidget(self.result_label)
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        buttons.addWidget(self.progress_label)
        buttons.addStretch(1)
        buttons.addWidget(self.next_button)
        form = QFormLayout()
        form.addRow(self.text_label)
        form.addRow(self.action_label)
        form.addRow(self.predict_box)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title_label)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(QLabel("Your answers:"))
        layout.addWidget(self.answers_table, 1)
        self.setTabOrder(self.guess_field, self.lock_button)
        self.setTabOrder(self.lock_button, self.back_button)
        self.setTabOrder(self.back_button, self.next_button)
        self.setTabOrder(self.next_button, self.answers_table)

    # ------------------------------------------------------------ lesson and steps
    def load(self) -> None:
        """Read the document's lesson (after a new model was opened) and show its first step."""
        block = self.document.model.lesson
        self.lesson = None
        self.problems = []
        if block is not None:
            try:
                self.lesson = read_lesson(block)
            except ValueError:
                self.problems = lesson_problems(block)
        self.go_to(0)

    @property
    def key(self) -> tuple[str, str]:
        """Which lesson the answers are kept under: the model's name and the lesson's title."""
        return (self.document.model.name, self.lesson.title if self.lesson else "")

    @property
    def step(self) -> Step | None:
        """The step shown, or None without a lesson."""
        return self.lesson.steps[self.index] if self.lesson else None

    def go_to(self, index: int) -> None:
        """Show step ``index`` (clamped to the lesson's steps)."""
        count = len(self.lesson.steps) if self.lesson else 0
        self.index = max(0, min(index, count - 1)) if count else 0
        self._ran_in_step = False
        step = self.step
        if step is not None and step.action is not None and "add" in step.action:
            self._add_baseline = self._count(step.action["add"])
        self._was_done = self.action_done()
        answer = self._answer()
        self.guess_field.setText("" if answer is None else f"{answer.guess:g}")
        self._show()
        self.step_changed.emit(self.index)

    def next(self) -> None:
        """The next step."""
        self.go_to(self.index + 1)

    def back(self) -> None:
        """The previous step."""
        self.go_to(self.index - 1)

    def lock_guess(self) -> bool:
        """Keep the typed guess for this step's question; False if the field holds no number.
        A guess locked again replaces the last one, and waits for a new run."""
        step = self.step
        if step is None or not step.predicts:
            return False
        try:
            guess = float(self.guess_field.text().strip().replace(",", "."))
        except ValueError:
            self.result_label.setText("Type a number first.")
            return False
        if not math.isfinite(guess):
            self.result_label.setText("Type a finite number.")
            return False
        assert step.metric is not None
        self._answers()[self.index] = Answer(step.question or "", step.metric, step.unit, guess)
        self._locked_at[(*self.key, self.index)] = self._runs_started
        self._show()
        self.answer_changed.emit(self.index)
        return True

    def focus(self) -> None:
        """Put the keyboard in the panel: on the guess field when the step asks a question,
        else on Next (or Back on the last step)."""
        if self.step is not None and self.step.predicts:
            self.guess_field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        elif self.next_button.isEnabled():
            self.next_button.setFocus(Qt.FocusReason.ShortcutFocusReason)
        else:
            self.back_button.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def answer(self, index: int | None = None) -> Answer | None:
        """The student's answer to step ``index`` (default: the current one) of this lesson."""
        return self._answers().get(self.index if index is None else index)

    def action_done(self) -> bool:
        """Whether the current step's action is done (True for a step without one)."""
        step = self.step
        if step is None or step.action is None:
            return True
        action = step.action
        if "set" in action:
            return set_done(self.document.model, action)
        if "add" in action:
            return self._count(action["add"]) > self._add_baseline
        return self._ran_in_step

    # ------------------------------------------------------------ the run
    def _run_state_changed(self, state: str) -> None:
        if state in ("running", "paused") and self._run_state in _IDLE_STATES:
            self._runs_started += 1
            self._run_model = copy.deepcopy(self.document.model)
            self._run_changed = False
        if state in ("stopped", "failed") and self._run_state in ("running", "paused"):
            self._run_model = None
            answer = self._answer()
            if answer is not None and not answer.compared:
                self.result_label.setText(
                    f"{self._result_text(answer)}\nThe run {state} before its end time: run it to the end to compare."
                )
        self._run_state = state

    def _batch(self, batch: RunBatch) -> None:
        if batch.changes:
            self._run_changed = True
        if batch.state != "finished" or self._run_model is None:
            return
        model, self._run_model = self._run_model, None
        self._ran_in_step = True
        step = self.step
        answer = self._answer()
        locked_before_run = self._locked_at.get((*self.key, self.index), self._runs_started) < self._runs_started
        if step is not None and step.predicts and answer is not None and locked_before_run:
            self._compare(step, answer, model, batch.results)
            self.answer_changed.emit(self.index)
        self._show()

    def _compare(self, step: Step, answer: Answer, model: Model, results: Any) -> None:
        assert step.metric is not None
        answer.theory = theory.metric_value(model, step.metric)
        answer.simulated = simulated_value(results, step.metric)
        notes = []
        if step.action is not None and "set" in step.action and not set_done(model, step.action):
            notes.append(f"this run did not have {describe_action(step.action).removeprefix('Set ')}")
        if self._run_changed:
            notes.append("the model changed during the run; theory is for the model it started with")
        answer.note = "; ".join(notes)

    # ------------------------------------------------------------ drawing
    def _show(self) -> None:
        lesson, step = self.lesson, self.step
        has_steps = lesson is not None and step is not None
        self.back_button.setEnabled(has_steps and self.index > 0)
        self.next_button.setEnabled(has_steps and lesson is not None and self.index < len(lesson.steps) - 1)
        if lesson is None or step is None:
            self._show_no_lesson()
            return
        self.title_label.setText(lesson.title)
        self.progress_label.setText(f"Step {self.index + 1} of {len(lesson.steps)}")
        self.text_label.setText(step.text)
        self._refresh_action()
        self.predict_box.setVisible(step.predicts)
        self.question_label.setText(step.question or "")
        self.unit_label.setText(step.unit)
        answer = self._answer()
        self.result_label.setText(self._result_text(answer))
        self._fill_answers()

    def _show_no_lesson(self) -> None:
        self.title_label.setText("No lesson")
        self.progress_label.setText("")
        if self.problems:
            self.text_label.setText(
                "This model's lesson cannot be shown:\n" + "\n".join(f"• {p}" for p in self.problems[:10])
            )
        else:
            self.text_label.setText(
                "This model has no lesson. Help ▸ Lessons lists the lessons that come with the app."
            )
        self.action_label.setText("")
        self.predict_box.hide()
        self._fill_answers()

    def _result_text(self, answer: Answer | None) -> str:
        if answer is None:
            return "Type your guess and press Enter to lock it in, then run."
        guess = f"Your guess: {number_text(answer.guess, answer.unit)}"
        if not answer.compared:
            return f"{guess} — now press Run (F5)."
        text = (
            f"{guess} · Theory: {number_text(answer.theory, answer.unit)}"
            f" · Simulation: {number_text(answer.simulated, answer.unit)}"
        )
        return f"{text}\n({answer.note})" if answer.note else text

    def _refresh_action(self) -> None:
        step = self.step
        if step is None:
            return
        if step.action is None:
            self.action_label.setText("")
            self.action_label.hide()
            return
        self.action_label.show()
        done = self.action_done()
        mark = "✓ Done:" if done else "To do:"
        self.action_label.setText(f"{mark} {describe_action(step.action)}")
        if done and not self._was_done:
            self.action_completed.emit(f"Lesson step {self.index + 1} done: {describe_action(step.action)}")
        self._was_done = done

    def _fill_answers(self) -> None:
        answers = self._answers() if self.lesson is not None else {}
        table = self.answers_table
        table.setRowCount(len(answers))
        for row, (index, answer) in enumerate(sorted(answers.items())):
            cells = [
                f"{index + 1}. {answer.question}",
                number_text(answer.guess, answer.unit),
                number_text(answer.theory, answer.unit) if answer.compared else "",
                number_text(answer.simulated, answer.unit) if answer.compared else "",
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                table.setItem(row, column, item)
        table.resizeRowsToContents()

    # ------------------------------------------------------------ helpers
    def _answers(self) -> dict[int, Answer]:
        return self.answers.setdefault(self.key, {})

    def _answer(self) -> Answer | None:
        return self._answers().get(self.index) if self.lesson is not None else None

    def _count(self, kind: str) -> int:
        return sum(1 for n in self.document.model.nodes if n.kind == kind)
