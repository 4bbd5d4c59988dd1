"""Dark and light (issue 15) beyond the canvas: the text the panels colour themselves (the
Theory table's notes and states, the inspector's help and status labels, the scenario
banner and tinted fields, the sweep form's answer) keeps WCAG AA contrast (4.5:1) against
what it is actually drawn on, in both themes, measured on the rendered widgets, and
follows a live switch."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from desktop.experiment.plot import SweepPlot
from desktop.experiment.sweep_panel import SweepPanel
from desktop.main_window import MainWindow
from desktop.run.theory_panel import COLOURS, TheoryPanel
from desktop.theme import AA_CONTRAST, STATUS, apply_theme, colors, contrast, status_color

THEMES = ["light", "dark"]


@pytest.fixture
def themed(window: MainWindow) -> Iterator[MainWindow]:
    """The shown M/M/1 window; the application's theme is put back to System afterwards."""
    yield window
    apply_theme("system")


def text_contrast(image: QImage, rect: QRect) -> tuple[float, QColor]:
    """Contrast of the text in ``rect`` of ``image`` against its background (the most common
    colour there; the pixel differing most from it is a glyph's core), and that background."""
    rect = rect.intersected(image.rect())
    found = [
        image.pixelColor(x, y)
        for y in range(rect.top(), rect.bottom() + 1)
        for x in range(rect.left(), rect.right() + 1)
    ]
    back = QColor.fromRgb(Counter(c.rgb() for c in found).most_common(1)[0][0])
    return max(contrast(c, back) for c in found), back


def widget_contrast(widget: QWidget) -> tuple[float, QColor]:
    """The contrast of ``widget``'s text as it renders (its own background included)."""
    image = widget.grab().toImage()
    return text_contrast(image, image.rect())


def is_dark(color: QColor) -> bool:
    return color.lightnessF() < 0.4


@pytest.mark.parametrize("theme", THEMES)
def test_theory_table_text_keeps_aa_contrast(themed: MainWindow, qtbot: Any, theme: str) -> None:
    themed.set_theme(theme)
    panel = TheoryPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 420)
    panel.show()
    qtbot.waitExposed(panel)
    panel.preview(themed.document.model)
    tree = panel.tree
    rows = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    note = rows[0]
    assert note.text(3) == "press Run to simulate"
    # The states a run shows, coloured as refresh colours them, on two more rows.
    states = [("● covers theory", COLOURS["covers"]), ("● outside interval", COLOURS["outside"])]
    for item, (label, hue) in zip(rows[1:], states):
        panel._label(item, label, hue)
    QApplication.processEvents()
    image = tree.viewport().grab().toImage()
    checked = 0
    for item in rows[: 1 + len(states)]:
        if not item.text(3):
            continue
        rect = tree.visualRect(tree.indexFromItem(item, 3))
        rect.setWidth(min(rect.width(), tree.fontMetrics().horizontalAdvance(item.text(3)) + 8))
        ratio, back = text_contrast(image, rect)
        assert ratio >= AA_CONTRAST, (theme, item.text(3), ratio)
        assert is_dark(back) == (theme == "dark"), (theme, back.name())
        checked += 1
    assert checked >= 2
    # Every hue the table uses, as the table computes it, meets AA on the table's background.
    base = tree.viewport().palette().color(tree.viewport().backgroundRole())
    for hue in [*COLOURS.values(), *STATUS]:
        assert contrast(status_color(hue, base), base) >= AA_CONTRAST, (theme, hue)


def test_theory_table_recolours_on_a_live_switch(themed: MainWindow, qtbot: Any) -> None:
    themed.set_theme("light")
    panel = TheoryPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.preview(themed.document.model)
    item = panel.tree.topLevelItem(0)
    light = item.foreground(3).color()
    themed.set_theme("dark")
    QApplication.processEvents()
    dark = item.foreground(3).color()
    assert light != dark
    base = panel.tree.viewport().palette().color(panel.tree.viewport().backgroundRole())
    assert is_dark(base) and contrast(dark, base) >= AA_CONTRAST


def inspector_labels(window: MainWindow) -> tuple[QLabel, QLabel | None]:
    window.scene.select(["cpu"])
    QApplication.processEvents()
    about = window.inspector.findChild(QLabel, "inspector_about")
    assert about is not None and about.text()
    return about, window.inspector.rho_label


@pytest.mark.parametrize("theme", THEMES)
def test_inspector_help_and_rho_keep_aa_contrast(themed: MainWindow, theme: str) -> None:
    themed.set_theme(theme)
    about, rho = inspector_labels(themed)
    ratio, back = widget_contrast(about)
    assert ratio >= AA_CONTRAST, (theme, ratio)
    assert is_dark(back) == (theme == "dark")
    assert rho is not None and "ρ =" in rho.text()
    ratio, _ = widget_contrast(rho)
    assert ratio >= AA_CONTRAST, (theme, ratio)


def test_inspector_help_follows_a_live_switch(themed: MainWindow) -> None:
    themed.set_theme("light")
    about, _ = inspector_labels(themed)
    light_sheet = about.styleSheet()
    themed.set_theme("dark")
    QApplication.processEvents()
    assert about.styleSheet() != light_sheet
    ratio, back = widget_contrast(about)
    assert is_dark(back) and ratio >= AA_CONTRAST


@pytest.mark.parametrize("theme", THEMES)
def test_inspector_error_and_pending_labels_keep_aa_contrast(themed: MainWindow, theme: str) -> None:
    themed.set_theme(theme)
    inspector_labels(themed)
    field = themed.inspector.fields["label"]
    for label, text in ((field.error_label, "not a valid value"), (field.pending_label, None)):
        if text is not None:
            label.setText(text)
        label.show()
        QApplication.processEvents()
        ratio, back = widget_contrast(label)
        assert ratio >= AA_CONTRAST, (theme, label.text(), ratio)
        assert is_dark(back) == (theme == "dark")


@pytest.mark.parametrize("theme", THEMES)
def test_scenario_banner_and_tinted_field_keep_aa_contrast(themed: MainWindow, qtbot: Any, theme: str) -> None:
    themed.set_theme(theme)
    themed.activateWindow()
    themed.canvas.setFocus()
    qtbot.keyClick(themed.canvas, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: themed.compare.scenarios.has_b, timeout=2000)
    themed.scene.select(["arrivals"])
    line = themed.inspector.fields["rate"].line
    line.setFocus()
    line.selectAll()
    qtbot.keyClicks(line, "0.5")
    themed.scene.select([])
    themed.scene.select(["arrivals"])
    qtbot.waitUntil(lambda: themed.compare.field_marks.marked == ["rate"], timeout=2000)
    banner = themed.compare.banner
    assert banner.isVisible() and "Editing scenario B" in banner.text()
    ratio, back = widget_contrast(banner)
    assert ratio >= AA_CONTRAST, (theme, ratio)
    assert is_dark(back) == (theme == "dark"), back.name()
    line = themed.inspector.fields["rate"].line
    ratio, back = widget_contrast(line)
    assert ratio >= AA_CONTRAST, (theme, ratio)
    assert is_dark(back) == (theme == "dark"), back.name()
    switch = themed.compare.switch
    ratio, back = widget_contrast(switch.note)
    assert ratio >= AA_CONTRAST and is_dark(back) == (theme == "dark")
    # A live switch to the other theme re-tints the banner.
    other = "light" if theme == "dark" else "dark"
    themed.set_theme(other)
    QApplication.processEvents()
    ratio, back = widget_contrast(banner)
    assert ratio >= AA_CONTRAST and is_dark(back) == (other == "dark")


@pytest.mark.parametrize("theme", THEMES)
def test_sweep_answer_and_hover_box_keep_aa_contrast(themed: MainWindow, qtbot: Any, theme: str) -> None:
    themed.set_theme(theme)
    form = themed.findChild(SweepPanel)
    assert form is not None
    form.answer_label.setText("λ = 0.9 keeps W under 10 s")
    form.answer_label.show()
    QApplication.processEvents()
    ratio, back = widget_contrast(form.answer_label)
    assert ratio >= AA_CONTRAST and is_dark(back) == (theme == "dark"), (theme, ratio)
    plot = SweepPlot()
    qtbot.addWidget(plot)
    scheme = colors(plot.palette())
    fill = plot.hover.fill.color()
    assert is_dark(fill) == (theme == "dark")
    assert contrast(plot.hover.color, scheme.chart_bg) >= AA_CONTRAST
