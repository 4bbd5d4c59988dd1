"""Light and dark: the colours of everything the app paints itself (canvas, minimap, node
cards, links, badges, charts), taken from the application palette, and View ▸ Theme.

The widgets follow the palette by themselves; the painted views ask :func:`colors` for a
:class:`Colors` made from the palette and repaint when it changes (``QEvent.PaletteChange``,
which Qt sends when the system switches between light and dark or when :func:`apply_theme`
sets a palette). Every text colour goes through :func:`readable`, so text keeps at least the
WCAG AA contrast of 4.5:1 against what it is drawn on, whatever the palette.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Signal, Slot
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

#: The choices of View ▸ Theme (saved under ``view/theme``).
THEMES = ("system", "light", "dark")
#: WCAG AA: the least contrast of normal-size text against its background.
AA_CONTRAST = 4.5


def luminance(color: QColor) -> float:
    """The WCAG relative luminance of an opaque colour, 0 (black) to 1 (white)."""

    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.redF()) + 0.7152 * channel(color.greenF()) + 0.0722 * channel(color.blueF())


def contrast(first: QColor, second: QColor) -> float:
    """The WCAG contrast ratio of two colours, 1 to 21."""
    a, b = sorted((luminance(first), luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def mix(first: QColor, second: QColor, amount: float) -> QColor:
    """``first`` moved ``amount`` (0…1) of the way towards ``second``."""
    return QColor.fromRgbF(
        first.redF() + (second.redF() - first.redF()) * amount,
        first.greenF() + (second.greenF() - first.greenF()) * amount,
        first.blueF() + (second.blueF() - first.blueF()) * amount,
    )


def readable(text: QColor, *backgrounds: QColor, minimum: float = AA_CONTRAST) -> QColor:
    """``text``, moved towards black or white (whichever contrasts more with the
    backgrounds) just far enough to reach ``minimum`` against every one of them."""
    dark_bg = sum(luminance(b) for b in backgrounds) / len(backgrounds) < 0.18
    target = QColor("white") if dark_bg else QColor("black")
    for step in range(21):
        candidate = mix(text, target, step / 20)
        if all(contrast(candidate, b) >= minimum for b in backgrounds):
            return candidate
    return target


@dataclass(frozen=True)
class Colors:
    """The colours of the painted views for one palette."""

    dark: bool
    canvas: QColor
    grid_minor: QColor
    grid_major: QColor
    card: QColor
    text: QColor
    subtext: QColor
    selection: QColor
    link: QColor
    flow: QColor
    flow_text: QColor
    error: QColor
    warning: QColor
    on_badge: QColor
    track: QColor
    live_text: QColor
    label_bg: QColor
    minimap_bg: QColor
    minimap_border: QColor
    hint_bg: QColor
    hint_text: QColor
    chart_bg: QColor
    chart_fg: QColor

    def card_accent(self, accent: QColor) -> QColor:
        """A kind's accent as drawn on a card (lighter on a dark card)."""
        return accent.lighter(135) if self.dark else accent

    def live_fill(self, accent: QColor, alarm: bool) -> QColor:
        """The filled part of the live utilisation bar: pale (light) or deep (dark) so that
        :attr:`live_text` stays readable on it; ``alarm`` (ρ ≥ 95 %) in the error hue."""
        base = self.error if alarm else accent
        return mix(base, self.card, 0.55 if not self.dark else 0.45)


def colors(palette: QPalette | None = None) -> Colors:
    """The :class:`Colors` for ``palette`` (default: the application's)."""
    palette = palette if palette is not None else QGuiApplication.palette()
    role = QPalette.ColorRole
    base = palette.color(role.Base)
    window = palette.color(role.Window)
    text = palette.color(role.Text)
    dark = luminance(window) < 0.18
    canvas = mix(base, window, 0.5)
    card = mix(base, text, 0.06) if dark else base
    highlight = palette.color(role.Highlight)
    error = QColor("#f28b82") if dark else QColor("#c5221f")
    warning = QColor("#fdd663") if dark else QColor("#e37400")
    on_badge = readable(QColor("#202124") if dark else QColor("white"), error, warning, minimum=3.0)
    flow = QColor("#8ab4f8") if dark else QColor("#1a73e8")
    chart_bg = base
    return Colors(
        dark=dark,
        canvas=canvas,
        grid_minor=mix(canvas, text, 0.07),
        grid_major=mix(canvas, text, 0.14),
        card=card,
        text=readable(text, card),
        subtext=readable(mix(text, card, 0.3), card),
        selection=highlight,
        link=mix(text, canvas, 0.45),
        flow=flow,
        flow_text=readable(flow, canvas),
        error=error,
        warning=warning,
        on_badge=on_badge,
        track=mix(card, text, 0.1),
        live_text=readable(text, mix(card, text, 0.1), card),
        label_bg=card,
        minimap_bg=card,
        minimap_border=mix(card, text, 0.25),
        hint_bg=mix(card, error, 0.15),
        hint_text=readable(error, mix(card, error, 0.15)),
        chart_bg=chart_bg,
        chart_fg=readable(mix(text, chart_bg, 0.2), chart_bg),
    )


def light_palette() -> QPalette:
    """The Fusion style's light palette."""
    style = QApplication.style()
    return style.standardPalette() if style is not None else QPalette()


def dark_palette() -> QPalette:
    """A dark palette for the Fusion style (every colour role set, text ≥ 4.5:1)."""
    palette = QPalette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    values = {
        role.Window: "#2b2d30",
        role.WindowText: "#e8eaed",
        role.Base: "#1f2023",
        role.AlternateBase: "#292a2d",
        role.ToolTipBase: "#3c4043",
        role.ToolTipText: "#e8eaed",
        role.PlaceholderText: "#9aa0a6",
        role.Text: "#e8eaed",
        role.Button: "#35363a",
        role.ButtonText: "#e8eaed",
        role.BrightText: "#ffffff",
        role.Light: "#4a4c50",
        role.Midlight: "#3c3e42",
        role.Mid: "#303134",
        role.Dark: "#1a1b1e",
        role.Shadow: "#000000",
        role.Highlight: "#8ab4f8",
        role.HighlightedText: "#202124",
        role.Link: "#8ab4f8",
        role.LinkVisited: "#c58af9",
    }
    for which, value in values.items():
        palette.setColor(which, QColor(value))
    for which in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(group.Disabled, which, QColor("#80868b"))
    return palette


#: The semantic hues of status text (widgets): green = fine/covers, amber = outside/warning,
#: red = error, grey = a note. :func:`status_color` adjusts their lightness to the background.
STATUS = {"ok": "#188038", "warning": "#b06000", "error": "#d93025", "note": "#5f6368"}


def background(widget: QWidget) -> QColor:
    """What ``widget`` is drawn on in the application's palette (its background role: Window
    for most widgets, Base for editors and item views)."""
    return outer_palette(widget).color(widget.backgroundRole())


def status_color(hue: str | QColor, widget: QWidget | QColor) -> QColor:
    """``hue`` (a key of :data:`STATUS` or any colour) made readable (4.5:1) on ``widget``'s
    background (or on the colour given)."""
    color = QColor(STATUS.get(hue, hue)) if isinstance(hue, str) else QColor(hue)
    bg = widget if isinstance(widget, QColor) else background(widget)
    return readable(color, bg)


#: The events that say the palette changed: a widget's own, or the application's (the only one
#: a widget with a style sheet gets).
PALETTE_EVENTS = (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange)


class _PaletteNotifier(QObject):
    """Emits :attr:`changed` when the application's palette changes. Qt tells the
    application object (``ApplicationPaletteChange``) but passes the change down only to
    widgets without a style sheet, so a coloured label would never hear of it."""

    changed = Signal()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if watched is QCoreApplication.instance() and event.type() == QEvent.Type.ApplicationPaletteChange:
            self.changed.emit()
        return False


_NOTIFIER: list[_PaletteNotifier] = []


def palette_notifier() -> _PaletteNotifier:
    """The one :class:`_PaletteNotifier`, watching the running application."""
    app = QCoreApplication.instance()
    if not _NOTIFIER or _NOTIFIER[0].parent() is not app:
        notifier = _PaletteNotifier(app)
        if app is not None:
            app.installEventFilter(notifier)
        _NOTIFIER[:] = [notifier]
    return _NOTIFIER[0]


class _Follower(QObject):
    """Calls ``apply`` when its widget's palette or the application's changes."""

    def __init__(self, widget: QWidget, apply: Callable[[], None]) -> None:
        super().__init__(widget)
        self._apply = apply
        self._busy = False
        palette_notifier().changed.connect(self.run)

    @Slot()
    def run(self) -> None:
        if not self._busy:
            self._busy = True
            try:
                self._apply()
            finally:
                self._busy = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.PaletteChange:
            self.run()
        return False


def follow_palette(widget: QWidget, apply: Callable[[], None]) -> None:
    """Call ``apply`` now and again whenever the palette changes (the application's, live
    light/dark switch, or ``widget``'s own), style sheet or not."""
    apply()
    follower = _Follower(widget, apply)
    widget.installEventFilter(follower)


def color_label(label: QWidget, hue: str | QColor, extra: str = "") -> None:
    """Give ``label`` the text colour ``hue`` (a :data:`STATUS` key or a colour), readable on
    its background in the current palette and kept so when the palette changes; ``extra``
    is more style sheet (``font-style: italic;``). Calling it again changes the hue."""
    label.setProperty("_theme_hue", hue if isinstance(hue, str) else QColor(hue).name())
    label.setProperty("_theme_extra", extra)

    def apply() -> None:
        color = status_color(str(label.property("_theme_hue")), label)
        sheet = f"color: {color.name()}; {label.property('_theme_extra') or ''}".strip()
        if label.styleSheet() != sheet:
            label.setStyleSheet(sheet)

    if label.property("_theme_follows"):
        apply()
        return
    label.setProperty("_theme_follows", True)
    follow_palette(label, apply)


def outer_palette(widget: QWidget) -> QPalette:
    """The palette ``widget`` sits in: the application's. Not the widget's own: a style sheet
    on it changes its palette, and Qt stops passing palette changes down to a widget with a
    style sheet (it then gets only ``ApplicationPaletteChange``, possibly before its parent
    has the new palette)."""
    del widget
    return QGuiApplication.palette()


def tinted(palette: QPalette, hue: str | QColor, amount: float = 0.1, role: Any = None) -> tuple[QColor, QColor]:
    """A faint ``hue`` tint of ``palette``'s ``role`` (default Window) and the text colour
    readable on it (WindowText, or Text for the Base role, moved just far enough)."""
    roles = QPalette.ColorRole
    role = roles.Window if role is None else role
    base = palette.color(role)
    fill = mix(base, QColor(hue), amount)
    text = palette.color(roles.Text if role == roles.Base else roles.WindowText)
    return fill, readable(text, fill)


_SYSTEM: dict[str, Any] = {}


def apply_theme(name: str, app: QApplication | None = None) -> None:
    """Switch the application to ``"light"``, ``"dark"`` or back to ``"system"`` (the
    platform's own style and palette, which then follow the desktop's light/dark setting).

    Light and dark use the Fusion style, the one style that draws every widget from the
    palette on every platform. Raises ValueError for another name.
    """
    if name not in THEMES:
        raise ValueError(f"unknown theme {name!r}: one of {', '.join(THEMES)}")
    app = app or QApplication.instance()  # type: ignore[assignment]
    if not isinstance(app, QApplication):
        return
    style = app.style()
    if "style" not in _SYSTEM and style is not None:
        _SYSTEM["style"] = style.name()
    if name == "system":
        if style is not None and style.name() != _SYSTEM.get("style"):
            app.setStyle(str(_SYSTEM.get("style")))
        # An empty palette hands the colours back to the platform, which then changes them
        # itself when the desktop switches between light and dark.
        app.setPalette(QPalette())
        return
    if style is None or style.name().lower() != "fusion":
        app.setStyle("Fusion")
    app.setPalette(dark_palette() if name == "dark" else light_palette())


def style_charts(root: QWidget, palette: QPalette | None = None) -> None:
    """Give every pyqtgraph chart under ``root`` the palette's background and readable axes,
    tick labels, titles and legends (their series keep their own colours)."""
    import pyqtgraph as pg

    scheme = colors(palette if palette is not None else root.palette())
    fg = scheme.chart_fg
    for view in root.findChildren(pg.GraphicsView):
        view.setBackground(scheme.chart_bg)
        scene = view.scene()
        if scene is None:
            continue
        for item in scene.items():
            if isinstance(item, pg.AxisItem):
                item.setPen(pg.mkPen(mix(fg, scheme.chart_bg, 0.35)))
                item.setTextPen(pg.mkPen(fg))
            elif isinstance(item, pg.PlotItem) and item.titleLabel.text:
                item.titleLabel.setText(item.titleLabel.text, color=fg.name())
            elif isinstance(item, pg.LegendItem):
                item.setLabelTextColor(fg)
                item.setBrush(pg.mkBrush(scheme.chart_bg))
            elif isinstance(item, pg.TextItem) and QColor(item.color).hsvSaturation() < 40:
                item.setColor(fg)  # grey notes on the charts; coloured markers keep their hue
