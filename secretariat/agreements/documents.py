"""Agreement documents on disk: what a file really is, a safe name for it, where it is kept.

Files are recognised by their content, never by their name: a program renamed ``.pdf`` is
refused. They are kept outside the web root (the upload folder), named by the SHA-256 of
their content, so a hostile name never reaches the file system and the same file is stored
once however often it is attached.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import unicodedata
import zipfile
import zlib
from pathlib import Path

from flask import Response, abort, current_app, send_file
from flask_babel import gettext as _

from secretariat.agreements.models import DocumentType

#: Largest document accepted.
MAX_BYTES = 20 * 1024 * 1024
#: Longest stem kept from an uploaded file name (before the extension).
MAX_STEM = 150

EXTENSIONS = {
    DocumentType.PDF: ".pdf",
    DocumentType.DOCX: ".docx",
    DocumentType.XLSX: ".xlsx",
    DocumentType.ODT: ".odt",
    DocumentType.PNG: ".png",
    DocumentType.JPEG: ".jpg",
}
MEDIA_TYPES = {
    DocumentType.PDF: "application/pdf",
    DocumentType.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    DocumentType.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    DocumentType.ODT: "application/vnd.oasis.opendocument.text",
    DocumentType.PNG: "image/png",
    DocumentType.JPEG: "image/jpeg",
}
#: Extensions people give these types, all replaced by the canonical one above.
_KNOWN_EXTENSIONS = {".pdf", ".docx", ".xlsx", ".odt", ".png", ".jpg", ".jpeg"}
_ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
#: Characters refused in file names by common systems, besides controls.
_UNSAFE = re.compile(r'[<>:"/\\|?*]')


class UnacceptableFile(ValueError):
    """The content is not one of the accepted types; the message says what it is instead."""


def sniff(data: bytes) -> DocumentType:
    """Tell the document's type from its content; raise UnacceptableFile otherwise."""
    if data.startswith(b"%PDF-"):
        if b"%%EOF" not in data[-2048:]:
            raise UnacceptableFile("truncated pdf")
        return DocumentType.PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        return DocumentType.PNG
    if data.startswith(b"\xff\xd8\xff"):
        return DocumentType.JPEG
    if data.startswith(b"PK\x03\x04"):
        return _sniff_zip(data)
    raise UnacceptableFile("unknown")


def _sniff_zip(data: bytes) -> DocumentType:
    """Office documents are ZIP packages; their members say which kind they are."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            names = set(package.namelist())
            if any(name.lower().endswith("vbaproject.bin") for name in names):
                raise UnacceptableFile("macros")
            if "mimetype" in names:
                info = package.getinfo("mimetype")
                if info.file_size <= 100 and package.read(info).strip() == _ODT_MIMETYPE:
                    return DocumentType.ODT
            if "[Content_Types].xml" in names:
                if "word/document.xml" in names:
                    return DocumentType.DOCX
                if "xl/workbook.xml" in names:
                    return DocumentType.XLSX
    except UnacceptableFile:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        KeyError,
        ValueError,
        EOFError,
        OSError,
        zlib.error,
        # An encrypted member, or one packed with a method zipfile cannot read.
        RuntimeError,
        NotImplementedError,
    ) as exc:
        raise UnacceptableFile("damaged zip") from exc
    raise UnacceptableFile("other zip")


def check(content: bytes) -> tuple[DocumentType | None, str | None]:
    """The type of an uploaded file, or a message saying why it is refused."""
    if not content:
        return None, _("The file is empty; choose the document to upload.")
    if len(content) > MAX_BYTES:
        # The upload is read only up to one byte past the limit: its real size is unknown.
        return None, _("The file is larger than 20 MB; documents can be at most 20 MB.")
    try:
        return sniff(content), None
    except UnacceptableFile as exc:
        if str(exc) == "macros":
            return None, _("Documents with macros are not accepted; save it without macros.")
        return None, _(
            "This file is not a PDF, Word (DOCX), Excel (XLSX), OpenDocument text "
            "(ODT), PNG or JPEG document, whatever its name says."
        )


def safe_filename(name: str, file_type: DocumentType) -> str:
    """A harmless name to offer on download: no folders, controls or odd characters.

    The extension always matches the content, whatever the uploaded name said.
    """
    name = unicodedata.normalize("NFC", name or "")
    # Only the last part of a path-like name ("../../etc/passwd", "C:\\x\\y.pdf") is kept.
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(
        # Controls, invisible formatting (bidi overrides), line breaks and lone surrogates,
        # which no file system, header or database encoding accepts.
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") else ch
        for ch in name
    )
    name = _UNSAFE.sub("_", name)
    name = " ".join(name.split()).strip(" .")
    stem, extension = os.path.splitext(name)
    if extension.lower() not in _KNOWN_EXTENSIONS:
        stem = name
    stem = stem.strip(" .")[:MAX_STEM].strip(" .") or "document"
    return stem + EXTENSIONS[file_type]


def _root(folder: str) -> Path:
    # Absolute, so that a relative UPLOAD_PATH means the same folder when the file is written
    # and when send_file (which resolves relative paths against the app's package) reads it.
    return Path(current_app.config["UPLOAD_PATH"]).absolute() / folder


def stored_path(sha256: str, folder: str = "agreements") -> Path:
    """Where the file with this content hash is kept (in the feature's own folder)."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError("not a SHA-256 hex digest")
    return _root(folder) / sha256[:2] / sha256


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def store(data: bytes, folder: str = "agreements") -> str:
    """Write the content under its hash (once); return the hash."""
    sha256 = digest(data)
    path = stored_path(sha256, folder)
    if path.exists() and path.stat().st_size == len(data):
        return sha256
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written to a temporary name and renamed, so a crash never leaves half a file in place.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return sha256


def send_document(
    sha256: str, file_type: DocumentType, filename: str, folder: str = "agreements"
) -> Response:
    """Send a stored file as an attachment that browsers will neither sniff, cache nor run."""
    path = stored_path(sha256, folder)
    if not path.is_file():
        current_app.logger.error("Stored file %s is missing from %s", filename, path)
        abort(404)
    response = send_file(
        path,
        mimetype=MEDIA_TYPES[file_type],
        as_attachment=True,
        download_name=filename,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
