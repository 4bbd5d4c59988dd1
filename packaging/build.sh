#!/usr/bin/env bash
# Build the standalone Queue Studio for Linux (PyInstaller, one folder) and smoke-test it.
#
#   bash packaging/build.sh
#
# Creates build/venv (from python3, or from $BASE_PYTHON), installs the project and
# PyInstaller into it from PyPI, builds dist/queuestudio/ from packaging/queuestudio.spec,
# then starts the built executable on the offscreen platform to render the main window on
# resources/examples/mm1.json to a PNG, checks that the PNG is a real picture of a window
# (over 10 KB, the expected size, many colours), runs the headless CLI of the bundle, and
# prints the size of the bundle. Exits 1 if the build or a smoke test fails, 3 if the build
# environment cannot be set up (no venv module, PyPI unreachable).
#
# Environment:
#   PYTHON         use this interpreter as it is instead of build/venv; it must already
#                  have the project's dependencies and PyInstaller installed.
#   BASE_PYTHON    interpreter that creates build/venv (default: python3).
#   SCREENSHOT     where the smoke test writes its PNG (default: a temporary file, kept).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD="$ROOT/build"
DIST="$ROOT/dist"
APP="$DIST/queuestudio/queuestudio"
start=$(date +%s)

say() { printf '==> %s\n' "$*"; }
fail() { printf 'build.sh: FAILED: %s\n' "$*" >&2; exit 1; }
# Exit status 3: the build environment could not be set up (no venv module, no registry).
cannot_install() { printf 'build.sh: CANNOT INSTALL: %s\n' "$*" >&2; exit 3; }

if [ -n "${PYTHON:-}" ]; then
    PY=$PYTHON
    say "using $PY as it is"
    "$PY" -c "import PyInstaller, PySide6, pyqtgraph, numpy" \
        || fail "$PY lacks PyInstaller or a dependency of the app (unset PYTHON to build in build/venv)"
else
    PY="$BUILD/venv/bin/python"
    if [ ! -x "$PY" ]; then
        say "creating $BUILD/venv"
        "${BASE_PYTHON:-python3}" -m venv "$BUILD/venv" || cannot_install "could not create build/venv"
    fi
    say "installing the project and PyInstaller into build/venv"
    "$PY" -m pip install --quiet --upgrade pip || cannot_install "pip could not upgrade itself"
    "$PY" -m pip install --quiet "$ROOT" "pyinstaller>=6.10,<7" \
        || cannot_install "pip could not install the project and PyInstaller"
fi
"$PY" -c "import PyInstaller, PySide6; print('PyInstaller', PyInstaller.__version__, '· PySide6', PySide6.__version__)"

say "running PyInstaller"
"$PY" -m PyInstaller --noconfirm --log-level WARN \
    --distpath "$DIST" --workpath "$BUILD/pyinstaller" packaging/queuestudio.spec
[ -x "$APP" ] || fail "PyInstaller did not produce $APP"
built=$(date +%s)

say "smoke test: $APP --screenshot (offscreen)"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/queuestudio-smoke.XXXXXX")
PNG=${SCREENSHOT:-$scratch/mm1.png}
rm -f "$PNG"
# Settings and recovery files go to the scratch directory, not the builder's home.
if ! env QT_QPA_PLATFORM=offscreen XDG_CONFIG_HOME="$scratch/config" QUEUESTUDIO_RECOVERY_DIR="$scratch/recovery" \
        timeout 120 "$APP" --screenshot "$PNG" "$ROOT/resources/examples/mm1.json"; then
    fail "the built app did not render its window"
fi
# The PNG must be a picture of the window: big enough, 1280x800 as rendered, not one colour.
QT_QPA_PLATFORM=offscreen "$PY" - "$PNG" <<'PYCHECK' || fail "the screenshot is not a picture of the main window"
import os
import sys

from PySide6.QtGui import QImage

path = sys.argv[1]
size = os.path.getsize(path) if os.path.exists(path) else 0
image = QImage(path)
if size <= 10_000 or image.isNull():
    sys.exit(f"{path}: {size} bytes, not a readable PNG over 10 KB")
colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
print(f"screenshot {path}: {size} bytes, {image.width()}x{image.height()}, {len(colours)} colours sampled")
if image.width() < 640 or image.height() < 400 or len(colours) < 16:
    sys.exit("the image is too small or nearly blank")
PYCHECK

say "smoke test: $APP run (headless CLI)"
QT_QPA_PLATFORM=offscreen timeout 120 "$APP" run "$ROOT/resources/examples/mm1.json" \
    --end-time 2000 --replications 2 --workers 2 --json "$scratch/mm1.json" >/dev/null 2>&1 \
    || fail "the built app's headless CLI failed"
grep -q '"nodes"' "$scratch/mm1.json" || fail "the headless CLI wrote no results"

say "bundle: $(du -sh "$DIST/queuestudio" | cut -f1) in $DIST/queuestudio ($(find "$DIST/queuestudio" -type f | wc -l) files)"
say "build took $((built - start)) s, smoke tests $(( $(date +%s) - built )) s"
echo "SMOKE TEST PASSED: $PNG"
