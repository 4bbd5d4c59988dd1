#!/usr/bin/env bash
# Install Queue Studio's desktop entry, icon and model MIME type for the current user, so
# the app shows in the desktop's menu and model files open in it by double-click.
#   bash scripts/install-desktop-entry.sh              install
#   bash scripts/install-desktop-entry.sh --uninstall  remove what it installed
# Uses xdg-utils (xdg-desktop-menu, xdg-icon-resource, xdg-mime) when they are installed
# (Debian/Ubuntu: sudo apt-get install xdg-utils); otherwise it copies the files into
# $XDG_DATA_HOME (default ~/.local/share), which is what those tools do for one user.
# The `queuestudio` command must be on PATH for the menu entry to start it
# (e.g. `pip install --user .`, or the .venv/bin of `bash scripts/run-app.sh`).
set -euo pipefail
cd "$(dirname "$0")/.."
RES=resources
DATA=${XDG_DATA_HOME:-$HOME/.local/share}
DESKTOP=queuestudio.desktop
MIME_XML=queuestudio-mime.xml     # installed as queuestudio.xml
ICON=$RES/icons/queuestudio.svg
MIMETYPE=application/x-queuestudio-model+json

have() { command -v "$1" >/dev/null 2>&1; }
refresh() {
    if have update-desktop-database; then update-desktop-database -q "$DATA/applications" || true; fi
    if have update-mime-database; then update-mime-database "$DATA/mime" >/dev/null 2>&1 || true; fi
    if have gtk-update-icon-cache; then gtk-update-icon-cache -q -t "$DATA/icons/hicolor" >/dev/null 2>&1 || true; fi
}

case "${1:-}" in
--uninstall)
    if have xdg-desktop-menu && have xdg-mime && have xdg-icon-resource; then
        xdg-desktop-menu uninstall --mode user "$DESKTOP" || true
        xdg-icon-resource uninstall --mode user --context apps --size scalable queuestudio || true
        xdg-mime uninstall --mode user "$DATA/mime/packages/queuestudio.xml" || true
    fi
    rm -f "$DATA/applications/$DESKTOP" "$DATA/icons/hicolor/scalable/apps/queuestudio.svg" \
        "$DATA/mime/packages/queuestudio.xml"
    refresh
    echo "Queue Studio's desktop entry, icon and MIME type are removed."
    ;;
"")
    if have xdg-desktop-menu && have xdg-mime && have xdg-icon-resource; then
        xdg-icon-resource install --mode user --context apps --size scalable --novendor "$ICON" queuestudio
        tmp=$(mktemp -d)
        trap 'rm -rf "$tmp"' EXIT
        cp "$RES/$MIME_XML" "$tmp/queuestudio.xml"
        xdg-mime install --mode user --novendor "$tmp/queuestudio.xml"
        xdg-desktop-menu install --mode user --novendor "$RES/$DESKTOP"
        xdg-mime default "$DESKTOP" "$MIMETYPE"
    else
        install -D -m 644 "$RES/$DESKTOP" "$DATA/applications/$DESKTOP"
        install -D -m 644 "$ICON" "$DATA/icons/hicolor/scalable/apps/queuestudio.svg"
        install -D -m 644 "$RES/$MIME_XML" "$DATA/mime/packages/queuestudio.xml"
        refresh
    fi
    if ! have queuestudio; then
        echo "note: 'queuestudio' is not on PATH; the menu entry starts it by that name." >&2
    fi
    echo "Queue Studio is in the desktop's menu; model files ($MIMETYPE) open in it."
    ;;
*)
    echo "usage: $0 [--uninstall]" >&2
    exit 2
    ;;
esac
