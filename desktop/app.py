"""Start the desktop application: ``queuestudio [MODEL.json] [--screenshot OUT.png] [--run-for S]``.

Qt aborts the whole process (it cannot be caught from Python) when its platform plugin
fails to load, as the xcb plugin does on Linux desktops missing ``libxcb-cursor0`` and
friends. So before creating the QApplication, :func:`platform_problem` looks for those
libraries with :func:`ctypes.util.find_library`; only if one seems missing does it start a
throw-away subprocess that creates a QApplication, and when that subprocess fails the user
gets a message naming the Debian/Ubuntu packages instead of a crash. ``--screenshot``
renders on the offscreen platform unless ``QT_QPA_PLATFORM`` says otherwise, so it works
without a display.
"""

from __future__ import annotations

import argparse
import ctypes.util
import logging
import os
import subprocess
import sys

import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from desktop.icons import app_icon
from desktop.logs import install_excepthook, setup_logging
from desktop.main_window import MainWindow
from desktop.startup_probe import watch
from engine.model import ModelError, open_model
from engine.version import queuestudio_version

#: Libraries Qt's xcb plugin needs, with the Debian/Ubuntu package that brings each.
XCB_LIBRARIES = {
    "xcb-cursor": "libxcb-cursor0",
    "xcb-icccm": "libxcb-icccm4",
    "xcb-keysyms": "libxcb-keysyms1",
    "xcb-image": "libxcb-image0",
    "xcb-render-util": "libxcb-render-util0",
    "xkbcommon-x11": "libxkbcommon-x11-0",
    "xcb-randr": "libxcb-randr0",
    "xcb-shape": "libxcb-shape0",
    "xcb-xinerama": "libxcb-xinerama0",
}
PROBE = "from PySide6.QtWidgets import QApplication; QApplication(['probe'])"


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line (argparse exits with status 2 on bad arguments)."""
    parser = argparse.ArgumentParser(
        prog="queuestudio",
        description="Draw queueing models and run them live.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "headless commands (no display needed; each has --help):\n"
            "  queuestudio run MODEL.json        run a model, print its metrics (replications, precision)\n"
            "  queuestudio sweep MODEL.json      run it at each value of one parameter\n"
            "  queuestudio compare A.json B.json compare two models on common random numbers"
        ),
    )
    parser.add_argument("--version", action="version", version=f"queuestudio {queuestudio_version()}")
    parser.add_argument("model", nargs="?", help="model file to open (default: the welcome page)")
    parser.add_argument("--screenshot", metavar="OUT.png", help="render the main window to a PNG and exit")
    parser.add_argument(
        "--run-for", metavar="SECONDS", type=float, help="run the model this long before the screenshot"
    )
    parser.add_argument("--lesson", action="store_true", help="start the model's lesson (Help ▸ Lessons) at step 1")
    args = parser.parse_args(argv)
    if args.lesson and not args.model:
        parser.error("--lesson needs a model file that holds a lesson")
    return args


def platform_problem() -> str | None:
    """Why Qt's window system plugin would fail to start here, or None if it should work."""
    if not sys.platform.startswith("linux"):
        return None
    requested = os.environ.get("QT_QPA_PLATFORM", "")
    if requested and not requested.startswith("xcb"):
        return None
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        return (
            "Queue Studio needs a graphical display, and none was found (DISPLAY is not set).\n"
            "Start it from a desktop session, use `queuestudio run MODEL.json` for the headless command line, "
            "or `queuestudio --screenshot OUT.png MODEL.json` to render an image."
        )
    missing = [pkg for lib, pkg in XCB_LIBRARIES.items() if ctypes.util.find_library(lib) is None]
    if not missing or _probe_ok():
        return None
    return (
        "Qt could not load its window system plugin (xcb). Some system libraries it needs seem to be missing: "
        f"{', '.join(missing)}.\nOn Debian or Ubuntu install them with:\n\n"
        f"    sudo apt install {' '.join(XCB_LIBRARIES.values())}\n\n"
        "(libxcb-cursor0 is the one most often missing.) Then start Queue Studio again."
    )


def _probe_ok() -> bool:
    """Whether a QApplication can start in a separate process (its abort cannot hurt us)."""
    try:
        result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def create_application() -> QApplication:
    """The QApplication with the names QSettings uses, the icon and high-DPI behaviour."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication([sys.argv[0] if sys.argv else "queuestudio"])
    # Names without spaces: they make the folders of the settings (~/.config/queuestudio),
    # the recovery files and the log (~/.local/state/queuestudio) on Linux.
    app.setApplicationName("queuestudio")
    app.setApplicationDisplayName("Queue Studio")
    app.setOrganizationName("queuestudio")
    app.setOrganizationDomain("queuestudio.org")
    app.setDesktopFileName("queuestudio")
    app.setWindowIcon(app_icon())
    app.aboutToQuit.connect(release_clipboard)
    return app


def release_clipboard() -> None:
    """Empty the clipboard if this process filled it.

    PySide6 6.11 crashes at interpreter exit (segmentation fault) when a clipboard the
    process filled with QMimeData was read back and is still owned at shutdown; clearing it
    on the way out avoids that. Nothing another application copied is touched.
    """
    clipboard = QGuiApplication.clipboard()
    if clipboard is not None and (clipboard.ownsClipboard() or QGuiApplication.platformName() == "offscreen"):
        clipboard.clear()


def main(argv: list[str]) -> int:
    """Open the editor (or render a screenshot); returns the exit status."""
    args = parse_args(argv)
    if args.screenshot:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        if args.model:
            try:
                open_model(args.model)
            except ModelError as exc:
                print(f"queuestudio: {exc}", file=sys.stderr)
                return 2
    problem = platform_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    app = create_application()
    log_file = setup_logging()
    install_excepthook()
    logging.getLogger("queuestudio").info("Queue Studio %s started, log %s", queuestudio_version(), log_file)
    window = MainWindow()
    if args.model and args.lesson:
        window.start_lesson(args.model)
    elif args.model:
        window.open_initial(args.model)
    else:
        window.show_welcome()
    if args.screenshot:
        try:
            return screenshot(window, args.screenshot, args.run_for)
        finally:
            dispose(window)
    watch(window)
    window.show()
    # Offered even when the file named on the command line could not be opened: the
    # unsaved work of a crashed session must not wait for a good start.
    QTimer.singleShot(0, window.offer_recovery)
    try:
        return int(app.exec())
    finally:
        dispose(window)


def dispose(window: MainWindow) -> None:
    """Delete ``window`` and the windows it opened now, while Python is whole.

    Left to PySide's clean-up at interpreter exit, the charts' graphics scenes are destroyed
    after parts of Python are gone; a scene item's Python event handler then runs into a
    half-finalised interpreter and the process dies with a segmentation fault (seen in about
    half the ``--screenshot --run-for`` runs once the Experiment dock's charts were added).
    """
    for other in [*window.other_windows, window]:
        if shiboken6.isValid(other):
            other.hide()  # its features end their threads on this (stop_with_window), before their owner goes
            shiboken6.delete(other)
    QApplication.processEvents()


def screenshot(window: MainWindow, out: str, run_for: float | None = None) -> int:
    """Render ``window`` to the PNG ``out`` (after ``window.run_for(run_for)`` when the
    window has that method); returns the exit status."""
    window.resize(1280, 800)
    window.show()
    QApplication.processEvents()
    if not window.showing_welcome():
        window.canvas.fit_to_view()
    runner = getattr(window, "run_for", None)
    if run_for is not None and callable(runner):
        runner(run_for)
    QApplication.processEvents()
    saved = window.grab().save(out)
    window.recovery.close()
    window.hide()
    if not saved:
        print(f"queuestudio: could not write {out}", file=sys.stderr)
        return 1
    return 0
