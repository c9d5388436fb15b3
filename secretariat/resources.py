"""Locate the top-level resource folders in a source checkout and in an installed wheel."""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent
_WHEEL = _PACKAGE / "_resources"


def resource_path(name: str) -> Path:
    """Return the absolute path of a top-level resource (templates, static, migrations, seeds)."""
    for base in (_CHECKOUT, _WHEEL):
        candidate = base / name
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"resource {name!r} not found next to the secretariat package")
