"""The installed Queue Studio version, for ``--version``, About and the cluster check."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def queuestudio_version() -> str:
    """The installed Queue Studio version ("unknown" when run from files not installed)."""
    try:
        return version("queuestudio")
    except PackageNotFoundError:
        return "unknown"
