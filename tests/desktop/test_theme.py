"""Dark and light (issue 15): the painted views follow the palette, switched live, and their
text keeps WCAG AA contrast (4.5:1) in both themes, measured on the rendered pixels."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, QRect, QRectF, QSettings
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication

from desktop.canvas.node_item import HEIGHT, ICON, LIVE_HEIGHT, WIDTH
from desktop.main_window import MainWindow
from desktop.theme import AA_CONTRAST, apply_theme, colors, contrast, dark_palette, light_palette, luminance

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def themed(window: MainWindow) -> Iterator[MainWindow]:
    """The shown M/M/1 window; the application's theme is put back to System afterwards."""
    yield window
    apply_theme("system")


def pixels(image: QImage, rect: QRect) -> list[QColor]:
    rect = rect.intersected(image.rect())
    return [
        image.pixelColor(x, y)
        for y in range(rect.top(), rect.bottom() + 1)
        for x in range(rect.left(), rect.right() + 1)
    ]


def rendered_contrast(image: QImage, rect: QRect) -> float:
    """Contrast of the text in ``rect`` against its background: the most common colour there
    is the background, the pixel that differs most from it is the core of a glyph."""
    found = pixels(image, rect)
    background = Counter(c.rgb() for c in found).most_common(1)[0][0]
    back = QColor.fromRgb(background)
    return max(contrast(c, back) for c in found)


def render_node(window: MainWindow, node_id: str) -> tuple[QImage, QRectF]:
    """The node's card rendered at 100 % on the canvas colour; the card's rect in the image."""
    item = window.scene.nodes[node_id]
    source = item.sceneBoundingRect()
    image = QImage(int(source.width()), int(source.height()), QImage.Format.Format_ARGB32)
    image.fill(window.scene.colors.canvas)
    painter = QPainter(image)
    window.scene.render(painter, QRectF(image.rect()), source)
    painter.end()
    origin = item.mapToScene(0, 0) - source.topLeft()
    return image, QRectF(origin.x(), origin.y(), WIDTH, HEIGHT)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_node_labels_and_live_values_keep_aa_contrast(themed: MainWindow, theme: str) -> None:
    themed.set_theme(theme)
    QApplication.processEvents()
    assert themed.scene.colors.dark == (theme == "dark")
    themed.node_item("cpu").set_live(3.0, 0.55, queue_now=2.0, mean=True)
    themed.node_item("arrivals").badge.set_messages(["a warning"], False)
    image, card = render_node(themed, "cpu")
    left = int(card.left()) + 14 + ICON + 10
    title = QRect(left, int(card.top()) + 7, int(WIDTH) - 14 - ICON - 18, 16)
    summary = QRect(left, int(card.top()) + 26, title.width(), 30)
    strip = QRect(int(card.left()) + 10, int(card.top() + HEIGHT) + 4, int(WIDTH) - 20, int(LIVE_HEIGHT) - 7)
    for name, rect in (("title", title), ("summary", summary), ("live values", strip)):
        assert rendered_contrast(image, rect) >= AA_CONTRAST, (theme, name)
    # The card's fill is the palette's: dark cards in the dark theme, light in the light one.
    card_pixel = image.pixelColor(int(card.left()) + 30, int(card.bottom()) - 4)
    assert (luminance(card_pixel) < 0.2) == (theme == "dark")
    # The colours chosen (not only the pixels) meet AA: live text on both bar colours.
    scheme = themed.scene.colors
    track, fill, text = themed.node_item("cpu").live_colors()
    assert min(contrast(text, track), contrast(text, fill)) >= AA_CONTRAST
    assert min(contrast(scheme.text, scheme.card), contrast(scheme.subtext, scheme.card)) >= AA_CONTRAST


def chart_axes(window: MainWindow) -> list[tuple[pg.GraphicsView, pg.AxisItem]]:
    found = []
    for view in window.findChildren(pg.GraphicsView):
        for item in view.scene().items():
            if isinstance(item, pg.AxisItem) and item.isVisible() and item.style.get("showValues", True):
                found.append((view, item))
    return found


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_chart_axes_keep_aa_contrast(themed: MainWindow, theme: str, qtbot: Any) -> None:
    themed.set_theme(theme)
    axes = chart_axes(themed)
    assert len(axes) >= 4
    checked = 0
    for view, axis in axes:
        background = view.backgroundBrush().color()
        assert (luminance(background) < 0.2) == (theme == "dark"), (view, view.parent(), view.isVisible())
        assert contrast(axis.textPen().color(), background) >= AA_CONTRAST
        if not view.isVisible() or axis.orientation != "left":
            continue
        image = view.grab().toImage()
        rect = view.mapFromScene(axis.sceneBoundingRect()).boundingRect()
        ratio = image.devicePixelRatio()
        rect = QRect(QPoint(int(rect.left() * ratio), int(rect.top() * ratio)), rect.size() * ratio)
        assert rendered_contrast(image, rect) >= AA_CONTRAST, (theme, axis)
        checked += 1
    assert checked >= 2


def test_switching_the_theme_repaints_the_canvas_live(themed: MainWindow) -> None:
    view = themed.canvas

    def corner() -> QColor:
        return view.viewport().grab().toImage().pixelColor(3, 3)

    light_before = corner()
    themed.set_theme("dark")
    QApplication.processEvents()
    dark = corner()
    assert luminance(dark) < 0.1 < luminance(light_before)
    assert view.minimap.grab().toImage().pixelColor(100, 6).lightness() < 100
    themed.set_theme("light")
    QApplication.processEvents()
    assert luminance(corner()) > 0.5


def test_the_theme_is_remembered(themed: MainWindow, qtbot: Any, tmp_path: Path) -> None:
    themed.set_theme("dark")
    assert QSettings().value("view/theme") == "dark"
    apply_theme("system")
    again = MainWindow(recovery_dir=tmp_path / "again")
    qtbot.addWidget(again)
    assert again.theme_actions["dark"].isChecked()
    assert QApplication.instance().palette().window().color() == dark_palette().window().color()


def test_palettes_text_meets_aa() -> None:
    for palette in (light_palette(), dark_palette()):
        scheme = colors(palette)
        for fg, bg in (
            (scheme.text, scheme.card),
            (scheme.subtext, scheme.card),
            (scheme.flow_text, scheme.canvas),
            (scheme.hint_text, scheme.hint_bg),
            (scheme.chart_fg, scheme.chart_bg),
        ):
            assert contrast(fg, bg) >= AA_CONTRAST
