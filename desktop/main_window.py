"""The main window: canvas in the middle, palette and inspector on the left, menus, status
bar, files (new, open, save, recent, examples), crash recovery.

The right and bottom dock areas and the toolbar named ``run`` are left for the run
features (run controls, dashboards); they reach the model through :attr:`document`, the
canvas through :attr:`canvas`, and a node's card through :meth:`node_item`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from PySide6.QtCore import QByteArray, QEvent, QObject, QPoint, QSettings, Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QGuiApplication,
    QKeySequence,
    QPalette,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QStackedWidget,
    QToolBar,
    QWidget,
)

from desktop import autosave, window_layout
from desktop.accessibility import name_toolbar_controls
from desktop.canvas import CanvasScene, CanvasView, NodeItem
from desktop.compare_menu import install_compare
from desktop.document import ModelDocument
from desktop.experiment.integration import install_experiments
from desktop.help import install_help_menu
from desktop.icons import app_icon, default_example, examples, examples_dir
from desktop.inspector import Inspector
from desktop.lessons import LESSON_SHORTCUT, fill_lessons_menu, install_lessons
from desktop.palette import Palette
from desktop.recovery_dialog import Choice, RecoveryDialog
from desktop.run.controller import LiveRunController
from desktop.run.integration import install_live_run
from desktop.theme import THEMES, apply_theme, style_charts
from desktop.welcome import WelcomePage
from engine.model import Model, ModelError, open_model, save_model

MAX_RECENT = 8
FILE_FILTER = "Queue Studio models (*.json);;All files (*)"


class MainWindow(QMainWindow):
    """The editor window for one model document."""

    def __init__(
        self, recovery_dir: Path | None = None, autosave_ms: int = autosave.AUTOSAVE_MS, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowIcon(app_icon())
        self._document = ModelDocument(parent=self)
        self.scene = CanvasScene(self._document)
        self._view = CanvasView(self.scene, self)
        #: The central pages: the canvas, and the welcome page (made when first shown).
        self.pages = QStackedWidget(self)
        self.pages.addWidget(self._view)
        self.setCentralWidget(self.pages)
        self.welcome: WelcomePage | None = None
        #: The dock arrangement the welcome page put away, restored when a model is shown.
        self._put_away: QByteArray | None = None
        self.palette_list = Palette(self)
        self.inspector = Inspector(self._document, self)
        self.palette_dock = self._dock("Palette", "palette", self.palette_list)
        self.inspector_dock = self._dock("Inspector", "inspector", self.inspector)
        self.run_toolbar = QToolBar("Run", self)
        self.run_toolbar.setObjectName("run")
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.run_toolbar)
        self.run_toolbar.hide()
        self.run_toolbar.installEventFilter(self)
        self.problems_label = QLabel(self)
        self.problems_label.setCursor(Qt.CursorShape.PointingHandCursor)
        self.problems_label.installEventFilter(self)
        self.zoom_label = QLabel(self)
        self.statusBar().addPermanentWidget(self.problems_label)
        self.statusBar().addPermanentWidget(self.zoom_label)
        self.recent_menu = QMenu("Open &Recent", self)
        self.examples_menu = QMenu("&Examples", self)
        self.examples_menu.setToolTipsVisible(True)
        self.recovery = autosave.Recovery(
            self._document, recovery_dir or autosave.default_directory(), autosave_ms, self
        )
        #: Windows this one opened (documents restored after a crash), kept alive here.
        self.other_windows: list[MainWindow] = []
        self._fitted = False
        #: The live run (installed below, once the menus exist; None until then).
        self.live_run: LiveRunController | None = None
        self._size_pending = True
        window_layout.set_corners(self)
        self._build_menus()
        self._connect()
        live = install_live_run(self, self._document, self.scene, self.run_toolbar)
        self.live_run = live
        # ---- Compare (issue 12): scenario B, Run A vs B, ghost run; see desktop.compare_menu
        self.compare = install_compare(self)
        # ----
        self.help_menu = install_help_menu(self)
        self._install_lessons()
        name_toolbar_controls(self.run_toolbar)
        live.state_changed.connect(lambda state: self.inspector.set_run_active(state in ("running", "paused")))
        live.state_changed.connect(lambda _state: self._block_run())
        self._document.contents_changed.connect(self._block_run)  # at once, not after the markers' timer
        # ---- Experiment and History docks (run_experiment, run_history), Experiment menu: issue 12 ----
        self.experiments = install_experiments(self)
        self.run_history = self.experiments.history
        self.compare.record_in(self.run_history)
        # ---- end of the Experiment block ----
        # Help stays the last menu, after those the features above added.
        self.menuBar().removeAction(self.help_menu.menuAction())
        self.menuBar().addAction(self.help_menu.menuAction())
        self._document.settings_changed.connect(self._block_run)
        self._block_run()
        run_docks = self._run_docks()
        for dock in run_docks:
            window_layout.scroll_when_short(dock)
        self.view_menu.addActions([d.toggleViewAction() for d in run_docks])
        self._action(self.view_menu, "&Reset Layout", self.reset_layout, None, "Put the panels back where they started")
        self._restore_settings()
        self._update_title()

    # ------------------------------------------------------------ public surface
    def run_for(self, seconds: float) -> None:
        """Run the current model live for ``seconds`` of wall time (``--screenshot --run-for``)."""
        assert self.live_run is not None
        self.live_run.run_for(seconds)

    @property
    def document(self) -> ModelDocument:
        """The open document (the same object for the window's whole life)."""
        return self._document

    @property
    def canvas(self) -> CanvasView:
        """The canvas view; its scene is ``canvas.canvas_scene``."""
        return self._view

    def node_item(self, node_id: str) -> NodeItem | None:
        """The canvas card of a node (None if there is none), e.g. to feed ``set_live``."""
        return self.scene.nodes.get(node_id)

    # ------------------------------------------------------------ lessons (issue 15)
    def _install_lessons(self) -> None:
        """The Lesson dock (View ▸ Lesson, Ctrl+Shift+E) and Help ▸ Lessons."""
        self.lesson_dock, self.lesson_panel = install_lessons(self, self._document, self.live_run)
        self.lessons_menu = QMenu("&Lessons", self)
        first = self.help_menu.actions()[0] if self.help_menu.actions() else None
        self.help_menu.insertMenu(first, self.lessons_menu)
        if first is not None:
            self.help_menu.insertSeparator(first)
        fill_lessons_menu(self.lessons_menu, examples(), self.start_lesson)
        toggle = self.lesson_dock.toggleViewAction()
        toggle.setShortcut(LESSON_SHORTCUT)
        toggle.triggered.connect(lambda shown: shown and self._focus_lesson())
        self.view_menu.addAction(toggle)

    def _focus_lesson(self) -> None:
        self.lesson_dock.show()
        self.lesson_dock.raise_()
        self.lesson_panel.focus()

    def start_lesson(self, path: str | Path) -> bool:
        """Open the model file ``path`` (after offering to save changes; a bundled example as an
        untitled copy) and start its lesson at step 1 in the Lesson dock, with the keyboard in
        the panel. False, with the reason on the status bar, when the file cannot be opened or
        holds no lesson."""
        if not self.maybe_save():
            return False
        bundled = Path(path).resolve().parent == examples_dir().resolve()
        if not self.open_path(path, as_example=bundled):
            return False
        panel = self.lesson_panel
        if panel.lesson is None:
            self.statusBar().showMessage(f"{Path(path).name} has no lesson to start", 8000)
            return False
        panel.go_to(0)
        self._focus_lesson()
        return True

    # ------------------------------------------------------------ layout
    def reset_layout(self) -> None:
        """The default arrangement (View ▸ Reset Layout): palette over inspector on the left,
        the whole height; the run's panels tabbed under the canvas; a lesson on the right.
        At 1280×800 the canvas keeps about half of the window."""
        self._place_docks()
        if self.isVisible():
            self._size_docks()
        else:
            self._size_pending = True

    def _run_docks(self) -> list[QDockWidget]:
        return window_layout.run_docks(self)

    def _place_docks(self) -> None:
        window_layout.place_docks(self, [self.palette_dock, self.inspector_dock])

    def _size_docks(self) -> None:
        """Give the docks their default sizes for the current window size."""
        self._size_pending = False
        window_layout.size_docks(self, self.palette_dock, self.inspector_dock, self.palette_list.sizeHint().height())

    def _dock(self, title: str, name: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setAllowedAreas(Qt.DockWidgetArea.LeftDockWidgetArea | Qt.DockWidgetArea.RightDockWidgetArea)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        return dock

    def _action(
        self,
        menu: QMenu,
        text: str,
        slot: object,
        shortcut: QKeySequence.StandardKey | str | None = None,
        tip: str = "",
    ) -> QAction:
        action = menu.addAction(text)
        if isinstance(shortcut, QKeySequence.StandardKey):
            action.setShortcuts(shortcut)
        elif shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        return action

    def _build_menus(self) -> None:
        keys = QKeySequence.StandardKey
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self._action(file, "&New", self.new_document, keys.New, "Start an empty model")
        self._action(file, "&Open…", self.open_dialog, keys.Open, "Open a model file")
        file.addMenu(self.recent_menu)
        file.addMenu(self.examples_menu)
        self._action(file, "&Welcome Page", self.show_welcome, None, "Examples, lessons and recent files")
        file.addSeparator()
        self._action(file, "&Save", self.save, keys.Save, "Save the model")
        self._action(file, "Save &As…", self.save_as, keys.SaveAs, "Save the model under a new name")
        file.addSeparator()
        self._action(file, "&Quit", self.close, keys.Quit)
        edit = bar.addMenu("&Edit")
        undo = self._document.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcuts(keys.Undo)
        redo = self._document.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcuts(list(dict.fromkeys([*QKeySequence.keyBindings(keys.Redo), QKeySequence("Ctrl+Y")])))
        edit.addActions([undo, redo])
        edit.addSeparator()
        actions = self._view.editor.actions
        edit.addActions([actions[n] for n in ("cut", "copy", "paste", "duplicate", "delete")])
        edit.addSeparator()
        edit.addActions([actions["select_all"], actions["rename"], actions["connect"]])
        self._action(
            edit, "Add &Node…", lambda: self._view.open_quick_add(), None, "Add a node by typing its name (Tab)"
        )
        edit.addAction(actions["arrange"])
        self.view_menu = bar.addMenu("&View")
        self._build_view_menu(self.view_menu)
        self._fill_examples()
        self._fill_recent()

    def _build_view_menu(self, view: QMenu) -> None:
        keys = QKeySequence.StandardKey
        self._action(view, "Zoom &In", self._view.zoom_in, keys.ZoomIn)
        self._action(view, "Zoom &Out", self._view.zoom_out, keys.ZoomOut)
        self._action(view, "&Actual Size", self._view.reset_zoom, "Ctrl+1")
        self._action(view, "&Fit to View", self._view.fit_to_view, "Ctrl+0")
        view.addSeparator()
        self.snap_action = self._toggle(view, "&Snap to Grid", True, self._set_snap)
        self.grid_action = self._toggle(view, "Show &Grid", True, self._set_grid)
        self.minimap_action = self._toggle(view, "Show &Minimap", True, self._view.minimap.setVisible)
        view.addSeparator()
        view.addActions([self.palette_dock.toggleViewAction(), self.inspector_dock.toggleViewAction()])
        self._action(view, "Edit in &Inspector", self._focus_inspector, "Ctrl+I", "Move the keyboard to the inspector")
        view.addSeparator()
        self.theme_menu = view.addMenu("&Theme")
        self.theme_actions: dict[str, QAction] = {}
        group = QActionGroup(self)
        for name, text in (("system", "&System"), ("light", "&Light"), ("dark", "&Dark")):
            action = self.theme_menu.addAction(text)
            action.setCheckable(True)
            action.setActionGroup(group)
            action.setStatusTip(f"Show the window in the {name} colours" if name != "system" else "Follow the desktop")
            action.triggered.connect(lambda _=False, n=name: self.set_theme(n))
            self.theme_actions[name] = action
        self.theme_actions["system"].setChecked(True)

    def set_theme(self, name: str) -> None:
        """Switch View ▸ Theme to ``"system"``, ``"light"`` or ``"dark"`` (for the whole
        application, at once, and remembered)."""
        apply_theme(name)
        self.theme_actions[name].setChecked(True)
        QSettings().setValue("view/theme", name)
        self._style_charts(QGuiApplication.palette())  # the window's own follows when the event arrives

    def _style_charts(self, palette: QPalette | None = None) -> None:
        style_charts(self, palette or self.palette())

    def _scheme_changed(self, *_: object) -> None:
        """The desktop switched light/dark: under View ▸ Theme ▸ System the palette follows
        (Qt changes it), and the painted views are refreshed with it."""
        if self.theme_actions["system"].isChecked():
            self._view.apply_palette()
            self._style_charts()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._style_charts()

    def _toggle(self, menu: QMenu, text: str, on: bool, slot: object) -> QAction:
        action = menu.addAction(text)
        action.setCheckable(True)
        action.setChecked(on)
        action.toggled.connect(slot)
        return action

    def _set_snap(self, on: bool) -> None:
        self.scene.snap_enabled = on

    def _set_grid(self, on: bool) -> None:
        self._view.grid_visible = on
        self._view.viewport().update()

    def _connect(self) -> None:
        doc = self._document
        doc.modified_changed.connect(lambda _m: self._update_title())
        doc.path_changed.connect(lambda _p: self._update_title())
        doc.settings_changed.connect(self._update_title)
        doc.document_reset.connect(self._after_reset)
        self.scene.selection_changed.connect(self._selection_changed)
        self.scene.link_refused.connect(lambda text: self.statusBar().showMessage(text, 4000))
        self.scene.problems_changed.connect(self._show_problems)
        self._view.zoom_changed.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f} %"))
        self._view.editor.message_posted.connect(lambda text: self.statusBar().showMessage(text, 4000))
        self._view.editor.rename_requested.connect(lambda _id: self._focus_inspector("id"))
        self._view.inspect_requested.connect(self._focus_inspector)
        self.palette_list.kind_activated.connect(self._add_from_palette)

    def _selection_changed(self) -> None:
        self.inspector.inspect(self.scene.selected_node_ids(), self.scene.selected_link_keys())

    def _add_from_palette(self, kind: str) -> None:
        self._view.editor.add_node(kind, self._view.visible_scene_rect().center())

    def _focus_inspector(self, field: str | None = None) -> None:
        self.inspector_dock.show()
        self.inspector.focus_field(field or None)

    def _show_problems(self, errors: list[str], warnings: list[str]) -> None:
        parts = [
            f"{len(found)} {word}{'s' if len(found) != 1 else ''}"
            for found, word in ((errors, "error"), (warnings, "warning"))
            if found
        ]
        text = " · ".join(parts) if parts else "✓ no problems"
        if self._document.run_problems():
            text += " — Run is off until fixed"
        self.problems_label.setText(text)
        self.problems_label.setToolTip("\n".join([*errors, *warnings, "(click for the list)"] if parts else []))
        self._block_run()

    def _block_run(self) -> None:
        """Run and Step are off while the model has problems that stop a run (it would only
        fail), and their tooltips say which; a run already going keeps its controls."""
        live = self.live_run
        if live is None:  # during construction, before the live run is installed
            return
        controls = live.controls
        problems = self._document.run_problems()
        blocked = bool(problems) and not live.running
        for action, key in ((controls.run_action, "F5"), (controls.step_action, "F10")):
            name = action.text()
            if blocked:
                action.setEnabled(False)
                more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
                action.setToolTip(f"{name} is off: fix this first: {problems[0]}{more}")
            else:
                action.setToolTip(f"{name} ({key})")
                if action is controls.step_action or live.state != "running":
                    action.setEnabled(True)

    def show_problems(self) -> None:
        """A click on the status bar's problem count: select the first node (or link) with a
        problem, an error before a warning, centred in view; then list every problem."""
        report = self._document.report()
        blocking = set(self._document.run_problems()) | set(report.errors)
        places = sorted(report.by_node.items(), key=lambda kv: not any(m in blocking for m in kv[1]))
        if places:
            self._go_to_problem(places[0][0])
        self.show_problem_list()

    def _go_to_problem(self, where: str) -> None:
        if where in self.scene.nodes:
            self.scene.select([where])
            self._view.centerOn(self.scene.nodes[where])
        elif where.startswith("link "):
            index = int(where.split()[1])
            links = self._document.model.links
            if 0 <= index < len(links) and (links[index].source, links[index].target) in self.scene.links:
                key = (links[index].source, links[index].target)
                self.scene.select([], [key])
                self._view.centerOn(self.scene.links[key])

    def show_problem_list(self) -> None:
        """Every problem of the model in one list: what stops a run first, then the warnings
        (a click on the status bar's problem count)."""
        blocking = self._document.run_problems()
        rest = [w for w in self._document.report().warnings if w not in blocking]
        if not blocking and not rest:
            self.statusBar().showMessage("The model has no problems", 4000)
            return
        sections = []
        for title, found in (("Fix before it can run", blocking), ("Warnings", rest)):
            if found:
                shown = found[:30] + ([f"… and {len(found) - 30} more"] if len(found) > 30 else [])
                sections.append(f"{title}:\n" + "\n".join(f"• {p}" for p in shown))
        QMessageBox.information(self, "Problems", "\n\n".join(sections))

    def show_welcome(self) -> WelcomePage:
        """Show the welcome page in place of the canvas (the start without a model file); any
        model opened, new or restored brings the canvas back."""
        if self.welcome is None:
            self.welcome = WelcomePage(examples, self.recent_files, self)
            self.welcome.openRequested.connect(self._open_from_welcome)
            self.welcome.lessonRequested.connect(self.start_lesson)
            self.welcome.newRequested.connect(self.new_document)
            self.welcome.openDialogRequested.connect(self.open_dialog)
            self.pages.addWidget(self.welcome)
        else:
            self.welcome.refresh()
        if not self.showing_welcome():
            # The page has the whole window: the editing and run panels come back with a model.
            self._put_away = self.saveState(window_layout.LAYOUT_VERSION)
            for widget in (*self.findChildren(QDockWidget), self.run_toolbar):
                widget.hide()
        self.pages.setCurrentWidget(self.welcome)
        self.welcome.setFocus()
        return self.welcome

    def _leave_welcome(self) -> None:
        self.pages.setCurrentWidget(self._view)
        if self._put_away is not None:
            self.restoreState(self._put_away, window_layout.LAYOUT_VERSION)
        self._put_away = None
        if self._size_pending and self.isVisible():
            self._size_docks()

    def showing_welcome(self) -> bool:
        """Whether the welcome page is shown instead of the canvas."""
        return self.welcome is not None and self.pages.currentWidget() is self.welcome

    def _open_from_welcome(self, path: str) -> None:
        bundled = Path(path).resolve().parent == examples_dir().resolve()
        if self.maybe_save():
            self.open_path(path, as_example=bundled)

    def _after_reset(self) -> None:
        if self.showing_welcome():
            self._leave_welcome()
            self._view.setFocus()
        self.inspector.inspect([], [])
        if self.isVisible():
            QTimer.singleShot(0, self._view.fit_to_view)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._size_pending and not self.showing_welcome():
            self._size_docks()
        if not self._fitted:
            self._fitted = True
            self._view.fit_to_view()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.run_toolbar and event.type() == QEvent.Type.ActionAdded:
            self.run_toolbar.show()
        elif watched is self.problems_label and event.type() == QEvent.Type.MouseButtonRelease:
            self.show_problems()
        return super().eventFilter(watched, event)

    def _update_title(self) -> None:
        doc = self._document
        name = Path(doc.path).name if doc.path else doc.model.name or "Untitled"
        self.setWindowTitle(f"{name}[*] — Queue Studio")
        self.setWindowModified(doc.modified)

    # ------------------------------------------------------------ files
    def new_document(self) -> None:
        """Start an empty model (after offering to save changes)."""
        if self.maybe_save():
            self._document.reset(Model(), None)

    def open_dialog(self) -> None:
        """Ask for a model file and open it."""
        if not self.maybe_save():
            return
        start = str(Path(self._document.path).parent) if self._document.path else str(examples_dir())
        path, _filter = QFileDialog.getOpenFileName(self, "Open Model", start, FILE_FILTER)
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path, *, as_example: bool = False) -> bool:
        """Open a model file; False (with the reasons shown) when it is not a model the editor
        can show, keeping the current document.

        A model with problems (probabilities to set, unreachable nodes, bad values…) opens
        like any other: its problems are badged on the canvas and listed in the status bar,
        and only Run refuses it until they are fixed. An example opens as an untitled copy,
        so saving never overwrites the bundled file.
        """
        try:
            model, _report = open_model(path)
        except ModelError as exc:
            shown = exc.problems[:15] + ([f"… and {len(exc.problems) - 15} more"] if len(exc.problems) > 15 else [])
            QMessageBox.warning(
                self,
                "Cannot Open Model",
                f"{Path(path).name} could not be opened:\n\n" + "\n".join(f"• {p}" for p in shown),
            )
            return False
        self._document.reset(model, None if as_example else str(path))
        if not as_example:
            self._add_recent(str(Path(path).resolve()))
        self.statusBar().showMessage(f"Opened {Path(path).name}{self._problems_note()}", 8000)
        return True

    def _problems_note(self) -> str:
        """ ", with N problems to fix before it can run" for the status bar ("" if none)."""
        count = len(self._document.run_problems())
        if not count:
            return ""
        return f" with {count} problem{'s' if count != 1 else ''} to fix before it can run (see the badges)"

    def save(self) -> bool:
        """Save to the document's file (Save As when it has none); True when saved."""
        if not self._document.path:
            return self.save_as()
        return self._write(self._document.path)

    def save_as(self) -> bool:
        """Ask for a file name and save there; True when saved."""
        stem = re.sub(r"[^\w.-]+", "_", self.compare.scenarios.model_a.name).strip("_") or "model"  # A, as Save writes
        suggestion = self._document.path or str(Path.home() / f"{stem}.json")
        path, _filter = QFileDialog.getSaveFileName(self, "Save Model As", suggestion, FILE_FILTER)
        if not path:
            return False
        if not path.endswith(".json"):
            path += ".json"
        return self._write(path)

    def _write(self, path: str) -> bool:
        try:
            save_model(self.compare.scenarios.model_a, path)  # scenario A, even while B is shown
        except (OSError, ValueError) as exc:
            QMessageBox.critical(self, "Cannot Save Model", f"{path} could not be written:\n\n{exc}")
            return False
        self._document.mark_saved(path)
        self._add_recent(str(Path(path).resolve()))
        self.statusBar().showMessage(f"Saved {Path(path).name}{self._problems_note()}", 8000)
        return True

    def maybe_save(self) -> bool:
        """Offer to save unsaved changes; False when the user cancels."""
        if not self.compare.scenarios.maybe_keep_b(self):  # scenario B is never lost silently
            return False
        if not self._document.modified:
            return True
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self,
            "Unsaved Changes",
            "Save the changes to this model first?",
            buttons.Save | buttons.Discard | buttons.Cancel,
            buttons.Save,
        )
        if answer == buttons.Save:
            return self.save()
        return answer == buttons.Discard

    def _fill_examples(self) -> None:
        self.examples_menu.clear()
        for path in examples():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                name, about = str(data.get("name") or path.stem), str(data.get("description", ""))
            except (OSError, ValueError, AttributeError):
                continue
            action = self.examples_menu.addAction(name)
            action.setToolTip(about or name)
            action.setStatusTip(about)
            action.triggered.connect(lambda _=False, p=path: self.maybe_save() and self.open_path(p, as_example=True))

    def recent_files(self) -> list[str]:
        """Recently opened or saved files, newest first."""
        value = QSettings().value("recent_files", [])
        return [str(v) for v in (value if isinstance(value, list) else [value] if value else [])]

    def _add_recent(self, path: str) -> None:
        files = [path, *(p for p in self.recent_files() if p != path)][:MAX_RECENT]
        QSettings().setValue("recent_files", files)
        self._fill_recent()

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.recent_files():
            action = self.recent_menu.addAction(Path(path).name)
            action.setStatusTip(path)
            action.triggered.connect(lambda _=False, p=path: self.maybe_save() and self.open_path(p))
        self.recent_menu.setEnabled(not self.recent_menu.isEmpty())

    # ------------------------------------------------------------ lifecycle
    def open_initial(self, path: str | None) -> bool:
        """Open ``path``, or the bundled example when None; False if ``path`` failed to load.
        (Started without a file, ``queuestudio`` shows :meth:`show_welcome` instead.)"""
        if path is None:
            return self.open_path(default_example(), as_example=True)
        return self.open_path(path)

    def offer_recovery(self) -> list[MainWindow]:
        """After a crash, offer every document left unsaved (one per crashed window) in a
        :class:`RecoveryDialog`; returns the windows the chosen ones were restored into.

        The first restored document goes into this window when it holds nothing of the
        user's (an untouched example or new model, or the same file), every other one into a
        new window. Whatever was autosaved is restored, valid or not. No file is deleted
        unless the user discards it: declined ones are kept for next time, restored ones
        are adopted by their window's autosave (see :mod:`desktop.autosave`).
        """
        found = autosave.orphans(self.recovery.directory)
        if not found:
            return []
        dialog = RecoveryDialog(found, self)
        dialog.exec()
        chosen = dialog.checked() if dialog.choice is not Choice.LATER else []
        restored: list[MainWindow] = []
        for orphan in found:
            if orphan.damaged:
                continue
            if not any(orphan is c for c in chosen):
                orphan.release()
            elif dialog.choice is Choice.DISCARD:
                orphan.remove()
            else:
                restored.append(self._restore(orphan, into_self=not restored and self._holds_nothing_for(orphan)))
        return restored

    def _holds_nothing_for(self, orphan: autosave.Orphan) -> bool:
        """Whether restoring ``orphan`` here would replace nothing the user asked for."""
        doc = self._document
        if doc.modified:
            return False
        return doc.path is None or (
            orphan.original_path is not None and Path(doc.path).resolve() == Path(orphan.original_path).resolve()
        )

    def _restore(self, orphan: autosave.Orphan, *, into_self: bool) -> MainWindow:
        assert orphan.model is not None
        target = self if into_self else self.new_window()
        target._document.reset(orphan.model, orphan.original_path, modified=True)
        target.recovery.adopt(orphan)
        target.statusBar().showMessage(
            f"Restored the unsaved changes to {orphan.title} from {orphan.when}{target._problems_note()}", 10000
        )
        return target

    def new_window(self) -> MainWindow:
        """A new editor window (an empty model) sharing this one's recovery folder; this window
        keeps it alive (see :attr:`other_windows`)."""
        window = MainWindow(self.recovery.directory, self.recovery.interval_ms)
        self.other_windows.append(window)
        window.move(self.pos() + QPoint(32, 32) * len(self.other_windows))
        if self.isVisible():
            window.show()
        return window

    def _restore_settings(self) -> None:
        settings = QSettings()
        geometry = settings.value("window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1280, 800)
        self._place_docks()
        state = settings.value("window/state")
        # A state saved by an older layout (or none) gives the default sizes at the first show.
        self._size_pending = state is None or not self.restoreState(state, window_layout.LAYOUT_VERSION)
        for key, action in (
            ("view/snap", self.snap_action),
            ("view/grid", self.grid_action),
            ("view/minimap", self.minimap_action),
        ):
            action.setChecked(str(settings.value(key, "true")).lower() == "true")
        hints = QGuiApplication.styleHints()
        if hints is not None:
            hints.colorSchemeChanged.connect(self._scheme_changed)
        theme = str(settings.value("view/theme", "system"))
        if theme in THEMES and theme != "system":
            self.set_theme(theme)
        else:
            self.theme_actions["system"].setChecked(True)
            self._style_charts()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.maybe_save():
            event.ignore()
            return
        if self.showing_welcome():
            self._leave_welcome()  # the panels it put away are part of the layout to remember
        settings = QSettings()
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/state", self.saveState(window_layout.LAYOUT_VERSION))
        for key, action in (
            ("view/snap", self.snap_action),
            ("view/grid", self.grid_action),
            ("view/minimap", self.minimap_action),
        ):
            settings.setValue(key, action.isChecked())
        self.recovery.close()
        event.accept()
