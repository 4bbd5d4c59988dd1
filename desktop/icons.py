"""Where the bundled resources live, and the icons and colours of the node kinds.

Icons are SVG files in ``resources/icons`` (one per kind, named after it). They are
rendered once per size and device-pixel ratio and cached, so painting a node costs a
pixmap blit.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from desktop.resources import resource_root


def resources_dir() -> Path:
    """The ``resources`` directory (next to the packages, or inside a frozen bundle)."""
    return resource_root()


def examples_dir() -> Path:
    """The bundled example models."""
    return resources_dir() / "examples"


#: The bundled examples in teaching order: one queue, Little's law, more servers and
#: pooling them, less variability, a finite queue, networks, then the software shapes (as in
#: the README's table).
LESSON_ORDER = (
    "mm1",
    "littles_law",
    "mmc",
    "pooling",
    "md1",
    "mm1k",
    "tandem",
    "jackson_feedback",
    "load_balanced_pools",
    "async_db",
    "autoscaling_web",
    "closed_web",
)


def examples() -> list[Path]:
    """The bundled example models in :data:`LESSON_ORDER` (any others after, by name)."""
    rank = {name: i for i, name in enumerate(LESSON_ORDER)}
    return sorted(examples_dir().glob("*.json"), key=lambda p: (rank.get(p.stem, len(rank)), p.stem))


def default_example() -> Path:
    """The model the application opens when started without one."""
    return examples_dir() / "mm1.json"


#: Accent colour of each node kind (matches its icon).
KIND_COLORS: dict[str, str] = {
    "source": "#2e9e5b",
    "server": "#2f6fd6",
    "thread_pool": "#7b4fc9",
    "async_server": "#138a8a",
    "router": "#d9771e",
    "delay": "#a0701a",
    "sink": "#5d6673",
    "clients": "#c0397a",
}


def kind_color(kind: str) -> QColor:
    """Accent colour of a kind (grey for unknown kinds)."""
    return QColor(KIND_COLORS.get(kind, "#808080"))


def _icon_path(name: str) -> Path:
    return resources_dir() / "icons" / f"{name}.svg"


@cache
def _renderer(name: str) -> QSvgRenderer | None:
    path = _icon_path(name)
    if not path.exists():
        return None
    renderer = QSvgRenderer(str(path))
    return renderer if renderer.isValid() else None


@cache
def kind_pixmap(kind: str, size: int, ratio: float = 1.0) -> QPixmap:
    """The kind's icon as a ``size``×``size`` pixmap for a device-pixel ``ratio``."""
    pixels = max(1, round(size * ratio))
    pixmap = QPixmap(pixels, pixels)
    pixmap.fill(Qt.GlobalColor.transparent)
    renderer = _renderer(kind)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if renderer is not None:
        renderer.render(painter, QRectF(0, 0, pixels, pixels))
    else:
        painter.setBrush(kind_color(kind))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawEllipse(QRectF(pixels * 0.15, pixels * 0.15, pixels * 0.7, pixels * 0.7))
    painter.end()
    pixmap.setDevicePixelRatio(ratio)
    return pixmap


def kind_icon(kind: str) -> QIcon:
    """A QIcon of the kind that stays sharp from 16 to 48 px and on high-DPI screens."""
    return _svg_icon(kind)


def app_icon() -> QIcon:
    """The application's icon."""
    return _svg_icon("queuestudio")


def _svg_icon(name: str) -> QIcon:
    path = _icon_path(name)
    icon = QIcon(str(path)) if path.exists() else QIcon()
    if icon.isNull():
        icon = QIcon()
        for size in (16, 24, 32, 48, 64, 128):
            icon.addPixmap(kind_pixmap(name, size))
    return icon


def icon_size(size: int) -> QSize:
    """A square QSize (shorthand for the widgets)."""
    return QSize(size, size)
