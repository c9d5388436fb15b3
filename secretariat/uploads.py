"""Uploaded files waiting between an import's preview and its confirmation.

The file is kept in the instance folder under a random token that only the uploader's
browser session knows; stale ones are removed.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import current_app, session

from secretariat.db import utcnow

#: Previewed uploads that were never confirmed are removed after this long.
PENDING_SECONDS = 24 * 3600
#: At most this many previews wait for confirmation in one browser session.
PENDING_PER_SESSION = 5


def _folder() -> Path:
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _forget_stale(folder: Path) -> None:
    cutoff = utcnow().timestamp() - PENDING_SECONDS
    for path in folder.iterdir():
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


def store_pending(kind: str, filename: str, data: bytes) -> str:
    """Keep an uploaded file until it is confirmed; return its token."""
    token = secrets.token_hex(16)
    fmt = Path(filename).suffix.lower().lstrip(".")
    fmt = fmt if fmt.isalnum() else "bin"
    folder = _folder()
    _forget_stale(folder)
    (folder / f"{token}.{fmt}").write_bytes(data)
    pending = dict(session.get("pending_imports", {}))
    pending[token] = {"what": kind, "format": fmt, "filename": filename}
    for old in list(pending)[:-PENDING_PER_SESSION]:
        entry = pending.pop(old)
        (folder / f"{old}.{entry['format']}").unlink(missing_ok=True)
    session["pending_imports"] = pending
    return token


def load_pending(kind: str, token: str) -> tuple[bytes, str] | None:
    """The bytes and name of a file this session uploaded for this kind of import."""
    entry = session.get("pending_imports", {}).get(token)
    if not entry or entry["what"] != kind or not token.isalnum():
        return None
    path = _folder() / f"{token}.{entry['format']}"
    return (path.read_bytes(), entry["filename"]) if path.exists() else None


def discard_pending(token: str) -> None:
    pending = dict(session.get("pending_imports", {}))
    entry = pending.pop(token, None)
    session["pending_imports"] = pending
    if entry and token.isalnum():
        (_folder() / f"{token}.{entry['format']}").unlink(missing_ok=True)
