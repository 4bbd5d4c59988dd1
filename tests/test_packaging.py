"""Packaging: the desktop entry, the AppStream metadata, the MIME type, the resource paths
of a frozen app, the start-up probe, and (slow) the PyInstaller build with its smoke test.

The slow test runs ``packaging/build.sh``, which needs PyPI and a few minutes; deselect it
with ``-m "not slow"``.
"""

from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from desktop.resources import resource_path, resource_root
from engine.model.document import FORMAT

ROOT = Path(__file__).resolve().parent.parent
RESOURCES = ROOT / "resources"
DESKTOP_FILE = RESOURCES / "queuestudio.desktop"
METAINFO = RESOURCES / "io.github.queuestudio.QueueStudio.metainfo.xml"
MIME_XML = RESOURCES / "queuestudio-mime.xml"
MIME_TYPE = "application/x-queuestudio-model+json"
MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def desktop_entry() -> configparser.SectionProxy:
    """The [Desktop Entry] group, keys case-preserved, no interpolation."""
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DESKTOP_FILE, encoding="utf-8")
    return parser["Desktop Entry"]


def semicolon_list(value: str) -> list[str]:
    """A desktop-entry list value (``a;b;``) as a list; the spec wants the trailing ``;``."""
    assert value.endswith(";"), f"{value!r} must end with ';'"
    return value[:-1].split(";")


# ---------------------------------------------------------------------------- desktop entry


def test_desktop_entry_has_the_required_keys() -> None:
    entry = desktop_entry()
    assert entry["Type"] == "Application"
    assert entry["Name"] == "Queue Studio"
    assert entry["Comment"]
    assert entry.get("Terminal", "false") == "false"


def test_desktop_entry_starts_the_installed_script_with_one_file() -> None:
    program, *args = desktop_entry()["Exec"].split()
    assert program in PYPROJECT["scripts"], "Exec must run the queuestudio script of pyproject.toml"
    assert args == ["%f"]


def test_desktop_entry_categories_and_mime_type() -> None:
    entry = desktop_entry()
    assert {"Education", "Science", "Development"} <= set(semicolon_list(entry["Categories"]))
    assert semicolon_list(entry["MimeType"]) == [MIME_TYPE]


def test_desktop_entry_icon_is_the_bundled_svg() -> None:
    icon = desktop_entry()["Icon"]
    assert icon == "queuestudio"
    svg = RESOURCES / "icons" / f"{icon}.svg"
    assert svg.is_file()
    assert ET.parse(svg).getroot().tag == "{http://www.w3.org/2000/svg}svg"


# ------------------------------------------------------------------------- AppStream


def test_metainfo_identifies_the_app() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == "io.github.queuestudio.QueueStudio"
    assert root.findtext("metadata_license") == "CC0-1.0"
    assert root.findtext("project_license") == PYPROJECT["license"]  # the SPDX expression
    assert root.findtext("name") == desktop_entry()["Name"]
    assert root.findtext("summary")
    assert root.findall("description/p"), "the description needs at least one paragraph"


def test_metainfo_points_at_the_desktop_entry_icon_and_binary() -> None:
    root = ET.parse(METAINFO).getroot()
    launchable = root.find("launchable")
    assert launchable is not None and launchable.get("type") == "desktop-id"
    assert launchable.text == DESKTOP_FILE.name
    assert root.findtext("icon[@type='stock']") == desktop_entry()["Icon"]
    assert root.findtext("provides/binary") in PYPROJECT["scripts"]
    assert root.findtext("provides/mediatype") == MIME_TYPE
    categories = {c.text for c in root.findall("categories/category")}
    assert categories == set(semicolon_list(desktop_entry()["Categories"]))


def test_metainfo_release_is_the_project_version() -> None:
    releases = ET.parse(METAINFO).getroot().findall("releases/release")
    assert releases, "AppStream wants at least one release"
    assert releases[0].get("version") == PYPROJECT["version"]
    assert releases[0].get("date")


# ------------------------------------------------------------------------- MIME type


def test_mime_type_is_json_recognised_by_the_format_field() -> None:
    root = ET.parse(MIME_XML).getroot()
    (mime,) = root.findall(f"{MIME_NS}mime-type")
    assert mime.get("type") == MIME_TYPE
    assert mime.find(f"{MIME_NS}sub-class-of").get("type") == "application/json"  # type: ignore[union-attr]
    match = mime.find(f"{MIME_NS}magic/{MIME_NS}match")
    assert match is not None and match.get("value") == f'"{FORMAT}"'
    end = int(match.get("offset", "0").split(":")[-1])
    for example in sorted((RESOURCES / "examples").glob("*.json")):
        assert f'"{FORMAT}"'.encode() in example.read_bytes()[: end + len(FORMAT) + 2], example.name


# ------------------------------------------------------------------------- resources


def test_resource_path_from_source() -> None:
    assert resource_root() == RESOURCES
    assert resource_path("examples", "mm1.json").is_file()
    assert resource_path("icons", "queuestudio.svg").is_file()


def test_resource_path_when_frozen(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resource_path("examples", "mm1.json") == tmp_path / "resources" / "examples" / "mm1.json"


def test_spec_bundles_resources_where_resource_path_looks() -> None:
    spec = (ROOT / "packaging" / "queuestudio.spec").read_text(encoding="utf-8")
    compile(spec, "queuestudio.spec", "exec")
    assert '"resources/examples"' in spec and '"resources/icons"' in spec
    assert 'name="queuestudio"' in spec


# ------------------------------------------------------------------------- start-up probe


def test_startup_probe_reports_the_first_paint(tmp_path: Path) -> None:
    """One run of the start-up benchmark's child: the probe writes a time and ends the app."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import startup  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    shown, ended = startup.one_run(startup.command(None, None), tmp_path, timeout=120)
    assert 0 < shown <= ended


# ------------------------------------------------------------------------- the build


@pytest.mark.slow
def test_build_produces_an_app_that_renders_its_window(tmp_path: Path) -> None:
    """packaging/build.sh builds dist/queuestudio and its smoke test passes."""
    png = tmp_path / "smoke.png"
    env = dict(os.environ, SCREENSHOT=str(png), BASE_PYTHON=sys.executable)
    env.pop("PYTHON", None)
    result = subprocess.run(
        ["bash", str(ROOT / "packaging" / "build.sh")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    output = result.stdout + result.stderr
    if result.returncode == 3:
        pytest.skip(f"PyInstaller cannot be installed here: {output.strip().splitlines()[-1]}")
    assert result.returncode == 0, output[-4000:]
    assert "SMOKE TEST PASSED" in result.stdout
    assert png.stat().st_size > 10_000
    assert (ROOT / "dist" / "queuestudio" / "_internal" / "resources" / "examples" / "mm1.json").is_file()


def _installer(data_home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_DATA_HOME": str(data_home), "HOME": str(data_home.parent)}
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / "install-desktop-entry.sh"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_desktop_entry_installs_for_the_user_and_uninstalls(tmp_path: Path) -> None:
    data = tmp_path / "share"
    installed = _installer(data)
    assert installed.returncode == 0, installed.stderr
    entry = data / "applications" / "queuestudio.desktop"
    icon = data / "icons" / "hicolor" / "scalable" / "apps" / "queuestudio.svg"
    mime = data / "mime" / "packages" / "queuestudio.xml"
    for path in (entry, icon, mime):
        assert path.is_file(), path
    assert entry.read_text(encoding="utf-8") == (ROOT / "resources" / "queuestudio.desktop").read_text(encoding="utf-8")
    removed = _installer(data, "--uninstall")
    assert removed.returncode == 0, removed.stderr
    assert not any(path.exists() for path in (entry, icon, mime))
    assert _installer(data, "--bogus").returncode == 2


def test_licence_metadata_is_an_spdx_expression_with_the_licence_file() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert "MIT License" in (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert not any(c.startswith("License ::") for c in project["classifiers"])  # PEP 639: the expression says it
    assert set(project["urls"]) >= {"Homepage", "Documentation", "Issues"}


#: Qt modules of the PySide6-Essentials wheel (the rest of PySide6 is PySide6-Addons), as its
#: PySide6/PySide6_Essentials.json lists them for PySide6 6.8 to 6.11.
ESSENTIALS = {
    "QtCore", "QtGui", "QtWidgets", "QtHelp", "QtNetwork", "QtConcurrent", "QtDBus", "QtDesigner",
    "QtOpenGL", "QtOpenGLWidgets", "QtPrintSupport", "QtQml", "QtQuick", "QtQuickControls2",
    "QtQuickTest", "QtQuickWidgets", "QtXml", "QtTest", "QtSql", "QtSvg", "QtSvgWidgets", "QtUiTools",
}  # fmt: skip
LOADED_QT_SCRIPT = """
import json, pathlib, sys, tempfile
from PySide6.QtWidgets import QApplication
app = QApplication([])
from desktop.main_window import MainWindow
from desktop.run.dashboard import Dashboard
import desktop.app, desktop.help, desktop.lessons, pyqtgraph.exporters
window = MainWindow(recovery_dir=pathlib.Path(tempfile.mkdtemp()))
window.show()
app.processEvents()
window.live_run.run_for(0.5)
window.live_run.shutdown()
print(json.dumps(sorted({m.split('.')[1] for m in sys.modules if m.startswith('PySide6.Qt')})))
"""


def test_the_app_depends_on_pyside6_essentials_only() -> None:
    """The dependency is PySide6-Essentials, and the app (window, a live run, the dashboard's
    charts and their exporters) loads no Qt module outside it."""
    names = [d.split(">")[0].split("<")[0].split("=")[0].strip().lower() for d in PYPROJECT["dependencies"]]
    assert "pyside6-essentials" in names and "pyside6" not in names
    essentials = next(d for d in PYPROJECT["dependencies"] if d.lower().startswith("pyside6-essentials"))
    assert "<6.12" in essentials  # 6.12.0 crashes under Python 3.11 (see DESIGN.md)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", LOADED_QT_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    loaded = set(json.loads(proc.stdout.strip().splitlines()[-1]))
    assert {"QtCore", "QtGui", "QtWidgets", "QtSvg"} <= loaded
    assert loaded <= ESSENTIALS, f"Qt modules from PySide6-Addons: {sorted(loaded - ESSENTIALS)}"
