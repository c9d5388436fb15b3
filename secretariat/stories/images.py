"""Story images: what an uploaded picture really is, and where it is kept.

An image is recognised by Pillow from its content, never by its name: only PNG, JPEG and WebP
pictures that decode completely are accepted, so an SVG (which can carry scripts), a page of
HTML or a program renamed ``.png`` is refused. Accepted files are stored like agreement
documents (outside the web root, under the SHA-256 of their content) in the ``stories`` folder.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from PIL import Image

from secretariat.agreements import documents

if TYPE_CHECKING:
    from secretariat.stories.models import Story

#: Folder of the upload path where story images are kept.
FOLDER = "stories"
#: Largest image file accepted.
MAX_BYTES = 5 * 1024 * 1024
#: Largest picture accepted, in pixels (width × height): bounds the memory decoding takes.
MAX_PIXELS = 40_000_000
#: Pillow's format names of the accepted types, and the type we record for each.
_FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp"}
MEDIA_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
EXTENSIONS = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}


class UnacceptableImage(ValueError):
    """The content is not an acceptable picture; the message says why ("too large" or other)."""


def sniff(data: bytes) -> str:
    """The image type ("png", "jpeg" or "webp") of a sound picture; UnacceptableImage otherwise."""
    try:
        with warnings.catch_warnings():
            # Pillow itself only warns below twice its own limit: make every bomb an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(_FORMATS)) as image:
                image_type = _FORMATS.get(image.format or "")
                width, height = image.size
                if image_type is None:
                    raise UnacceptableImage("other format")
                if width * height > MAX_PIXELS:
                    raise UnacceptableImage("too large")
                image.verify()
            # verify() checks the structure (and PNG checksums) but not every format's data:
            # decoding once catches truncated files, which browsers and PDFs show half-drawn.
            with Image.open(io.BytesIO(data), formats=list(_FORMATS)) as image:
                image.load()
    except UnacceptableImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UnacceptableImage("too large") from exc
    except Exception as exc:  # noqa: BLE001 - any failure of the decoders on hostile input
        raise UnacceptableImage("damaged or unknown") from exc
    return image_type


def check(data: bytes) -> tuple[str | None, str | None]:
    """The type of an uploaded image, or a message saying why it is refused."""
    if not data:
        return None, _("The file is empty; choose the picture to upload.")
    if len(data) > MAX_BYTES:
        # The upload is read only up to one byte past the limit: its real size is unknown.
        return None, _("The image is larger than 5 MB; images can be at most 5 MB.")
    try:
        return sniff(data), None
    except UnacceptableImage as exc:
        if str(exc) == "too large":
            return None, _(
                "The picture has more than 40 megapixels; make it smaller (e.g. 4000 × 3000)."
            )
        return None, _(
            "This file is not a PNG, JPEG or WebP picture, whatever its name says; "
            "export it as one of those."
        )


def store(data: bytes) -> str:
    """Keep the (checked) image under its content hash; return the hash."""
    return documents.store(data, folder=FOLDER)


def stored_path(sha256: str) -> Path:
    return documents.stored_path(sha256, FOLDER)


def image_path(story: Story) -> Path | None:
    """Where the story's image file is kept; None when it has none or the file is missing."""
    if not story.image_sha256:
        return None
    try:
        path = stored_path(story.image_sha256)
    except ValueError:
        return None
    return path if path.is_file() else None
