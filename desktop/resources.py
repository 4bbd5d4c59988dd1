"""Paths of the bundled resources (example models, icons), from source or frozen.

From a checkout or an editable install the ``resources`` directory sits next to the
``desktop`` package. In a PyInstaller bundle the spec copies it to ``resources`` under
the bundle's data directory, which PyInstaller names in ``sys._MEIPASS`` (``_internal``
beside the executable of a one-folder app). This module imports no Qt.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["docs_root", "resource_root", "resource_path"]


def resource_root() -> Path:
    """The ``resources`` directory: inside the frozen bundle, else next to the packages."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def resource_path(*parts: str) -> Path:
    """The path of ``resources/<parts…>`` (e.g. ``resource_path("examples", "mm1.json")``).

    The path is not checked: it may name a file that does not exist.
    """
    return resource_root().joinpath(*parts)


def docs_root() -> Path:
    """The ``docs`` directory (the README beside it): in the frozen bundle, else next to the
    packages. It may be missing from an installation that did not bundle it."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "docs"
    return Path(__file__).resolve().parent.parent / "docs"
