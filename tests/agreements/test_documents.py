"""Agreement documents: recognised by content, named safely, stored once under their hash."""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from secretariat.agreements import documents, services
from secretariat.agreements.documents import UnacceptableFile, safe_filename, sniff
from secretariat.agreements.models import AgreementDocument, ChangeKind, DocumentType
from secretariat.members.services import ValidationFailed
from secretariat.permissions import OutOfScope
from tests.agreements.conftest import fresh, table_counts
from tests.agreements.factories import AgreementFactory

T = DocumentType

# -- files built for real ------------------------------------------------------------------


def pdf_bytes(text: str = "Signed copy") -> bytes:
    """A minimal, well-formed one-page PDF with a correct cross-reference table."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def png_bytes(width: int = 2, height: int = 1) -> bytes:
    """A real RGB PNG of white pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\xff\xff\xff" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def jpeg_bytes() -> bytes:
    """A real baseline JPEG: one grey 8x8 block (DC difference 0, then end of block)."""

    def segment(marker: int, data: bytes) -> bytes:
        return struct.pack(">BBH", 0xFF, marker, len(data) + 2) + data

    quantisation = b"\x00" + bytes([1] * 64)
    frame = struct.pack(">BHHB", 8, 8, 8, 1) + b"\x01\x11\x00"
    # One code of length 1 in each table: DC category 0, AC end-of-block.
    dc_table = b"\x00" + bytes([1] + [0] * 15) + b"\x00"
    ac_table = b"\x10" + bytes([1] + [0] * 15) + b"\x00"
    scan = b"\x01\x01\x00\x00\x3f\x00"
    return (
        b"\xff\xd8"
        + segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
        + segment(0xDB, quantisation)
        + segment(0xC0, frame)
        + segment(0xC4, dc_table)
        + segment(0xC4, ac_table)
        + segment(0xDA, scan)
        + b"\x3f"  # bits 0 (DC) and 0 (EOB), padded with ones
        + b"\xff\xd9"
    )


CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/></Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)
DOCUMENT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    "<w:body><w:p><w:r><w:t>Memorandum of understanding</w:t></w:r></w:p></w:body></w:document>"
)


def zip_bytes(members: dict[str, bytes | str], stored: tuple[str, ...] = ()) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in members.items():
            method = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            package.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return out.getvalue()


def docx_bytes(extra: dict[str, bytes | str] | None = None) -> bytes:
    return zip_bytes(
        {
            "[Content_Types].xml": CONTENT_TYPES,
            "_rels/.rels": RELS,
            "word/document.xml": DOCUMENT,
            **(extra or {}),
        }
    )


def xlsx_bytes() -> bytes:
    workbook = Workbook()
    workbook.active.append(["City", "Budget"])
    workbook.active.append(["Lisbon", 120_000])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def odt_bytes(mimetype: bytes = b"application/vnd.oasis.opendocument.text") -> bytes:
    """An OpenDocument text: its first member is the uncompressed ``mimetype``."""
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.text"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        "<office:body><office:text><text:p>Letter of intent</text:p></office:text></office:body>"
        "</office:document-content>"
    )
    return zip_bytes(
        {"mimetype": mimetype, "META-INF/manifest.xml": manifest, "content.xml": content},
        stored=("mimetype",),
    )


def encrypted(package: bytes, member: str) -> bytes:
    """The package with ``member`` flagged as encrypted (as a password-protected zip is)."""
    data = bytearray(package)
    name = member.encode()
    for signature, flag_offset, name_offset in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
        start = data.find(signature)
        while start != -1:
            if data[start + name_offset : start + name_offset + len(name)] == name:
                data[start + flag_offset] |= 0x01
            start = data.find(signature, start + 1)
    return bytes(data)


ACCEPTED = {
    "pdf": (pdf_bytes, T.PDF),
    "png": (png_bytes, T.PNG),
    "jpeg": (jpeg_bytes, T.JPEG),
    "docx": (docx_bytes, T.DOCX),
    "xlsx": (xlsx_bytes, T.XLSX),
    "odt": (odt_bytes, T.ODT),
}


# -- sniff ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ACCEPTED)
def test_accepted_types_are_recognised_by_content(name):
    build, expected = ACCEPTED[name]
    assert sniff(build()) is expected


def test_the_files_built_here_are_what_they_claim():
    """Check the hand-built files against the real readers we have."""
    with zipfile.ZipFile(io.BytesIO(odt_bytes())) as package:
        first = package.infolist()[0]
        assert (first.filename, first.compress_type) == ("mimetype", zipfile.ZIP_STORED)
    from openpyxl import load_workbook

    assert load_workbook(io.BytesIO(xlsx_bytes())).active["A2"].value == "Lisbon"
    png = png_bytes()
    start = png.index(b"IDAT")
    (length,) = struct.unpack(">I", png[start - 4 : start])
    assert zlib.decompress(png[start + 4 : start + 4 + length]) == b"\x00" + b"\xff" * 6
    assert pdf_bytes().rstrip().endswith(b"%%EOF")
    assert jpeg_bytes()[:3] == b"\xff\xd8\xff" and jpeg_bytes()[-2:] == b"\xff\xd9"


REFUSED = {
    "exe": (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200), "unknown"),
    "elf": (b"\x7fELF\x02\x01\x01" + bytes(100), "unknown"),
    "html": (b"<!DOCTYPE html><script>alert(1)</script>", "unknown"),
    "svg": (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "unknown"),
    "text": (b"just some text", "unknown"),
    "plain zip": (zip_bytes({"notes.txt": "hello", "data.csv": "a,b"}), "other zip"),
    "jar": (zip_bytes({"META-INF/MANIFEST.MF": "Main-Class: Evil\n"}), "other zip"),
    "docm": (docx_bytes({"word/vbaProject.bin": b"\xd0\xcf\x11\xe0macro"}), "macros"),
    "xlsm": (
        zip_bytes(
            {
                "[Content_Types].xml": "<Types/>",
                "xl/workbook.xml": "<w/>",
                "xl/vbaProject.bin": b"x",
            }
        ),
        "macros",
    ),
    "ods": (odt_bytes(b"application/vnd.oasis.opendocument.spreadsheet"), "other zip"),
    "truncated zip": (docx_bytes()[:200], "damaged zip"),
    "truncated pdf": (pdf_bytes()[:100], "truncated pdf"),
    "png without header chunk": (b"\x89PNG\r\n\x1a\n" + bytes(20), "unknown"),
    "encrypted odt": (encrypted(odt_bytes(), "mimetype"), "damaged zip"),
}


@pytest.mark.parametrize("name", REFUSED)
def test_other_content_is_refused_whatever_its_name(name):
    data, reason = REFUSED[name]
    with pytest.raises(UnacceptableFile) as caught:
        sniff(data)
    assert str(caught.value) == reason


# -- safe names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uploaded", "file_type", "safe"),
    [
        ("Signed MoU.pdf", T.PDF, "Signed MoU.pdf"),
        ("../../etc/passwd", T.PDF, "passwd.pdf"),
        ("C:\\evil\\x.pdf", T.PDF, "x.pdf"),
        ("..\\..\\windows\\system32\\x.docx", T.DOCX, "x.docx"),
        ("report\x00.exe.pdf", T.PDF, "report .exe.pdf"),
        ("evil\x00", T.PDF, "evil.pdf"),
        ("invoice\u202efdp.exe", T.PDF, "invoice fdp.exe.pdf"),
        ("line\nbreak\r.png", T.PNG, "line break.png"),
        ("para\u2029graph\u2028.png", T.PNG, "para graph.png"),
        ("lone\ud800surrogate.pdf", T.PDF, "lone surrogate.pdf"),
        ("zero\u200bwidth.pdf", T.PDF, "zero width.pdf"),
        (".htaccess", T.PDF, "htaccess.pdf"),
        ("...", T.PDF, "document.pdf"),
        ("..", T.PDF, "document.pdf"),
        ("", T.PDF, "document.pdf"),
        ("  spaced   out  .pdf ", T.PDF, "spaced out.pdf"),
        ('a<b>c:d"e|f?g*h.xlsx', T.XLSX, "a_b_c_d_e_f_g_h.xlsx"),
        ("photo.JPEG", T.JPEG, "photo.jpg"),
        ("scan.png", T.PDF, "scan.pdf"),
        ("budget", T.XLSX, "budget.xlsx"),
        ("Ca\u0301mara.odt", T.ODT, "Cámara.odt"),
        ("contrato São Paulo.docx", T.DOCX, "contrato São Paulo.docx"),
    ],
)
def test_safe_filename(uploaded, file_type, safe):
    assert safe_filename(uploaded, file_type) == safe


def test_very_long_names_are_shortened_keeping_the_extension():
    name = safe_filename("é" * 1000 + ".pdf", T.PDF)
    assert name == "é" * documents.MAX_STEM + ".pdf"
    assert safe_filename("x" * 1000, T.PNG) == "x" * documents.MAX_STEM + ".png"


@pytest.mark.parametrize("uploaded", ["../../etc/passwd", "C:\\evil\\x.pdf", "\x00\u202e/\\.."])
def test_safe_names_have_no_path_or_control_characters(uploaded):
    name = safe_filename(uploaded, T.PDF)
    assert "/" not in name and "\\" not in name and not name.startswith(".")
    assert all(ch.isprintable() for ch in name)


# -- adding and storing --------------------------------------------------------------------


def stored_files(app) -> list[Path]:
    root = Path(app.config["UPLOAD_PATH"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.mark.parametrize("name", ACCEPTED)
def test_add_document_stores_it_under_its_hash(app, db, staff, name):
    build, file_type = ACCEPTED[name]
    content = build()
    agreement = AgreementFactory()

    document, renamed = services.add_document(
        db, staff, agreement, f"../{name}.bin", content, "  Signed\tcopy "
    )

    sha256 = hashlib.sha256(content).hexdigest()
    path = Path(app.config["UPLOAD_PATH"]) / "agreements" / sha256[:2] / sha256
    assert stored_files(app) == [path]
    assert path.read_bytes() == content
    assert documents.stored_path(sha256) == path
    document = fresh(db, document)
    assert (document.filename, document.file_type, document.size, document.sha256) == (
        f"{name}.bin{documents.EXTENSIONS[file_type]}",
        file_type,
        len(content),
        sha256,
    )
    assert renamed is True
    assert document.description == "Signed copy"
    assert document.uploaded_by_id == staff.id
    assert fresh(db, agreement).history[0].kind is ChangeKind.DOCUMENT_ADDED


def test_identical_content_is_stored_once(app, db, staff):
    content = pdf_bytes()
    first, second = AgreementFactory(), AgreementFactory()
    services.add_document(db, staff, first, "mou.pdf", content)
    _document, renamed = services.add_document(db, staff, second, "copy.pdf", content)
    assert renamed is False
    assert len(stored_files(app)) == 1
    assert [
        d.filename for d in db.scalars(select(AgreementDocument).order_by(AgreementDocument.id))
    ] == [
        "mou.pdf",
        "copy.pdf",
    ]


def test_same_file_twice_on_one_agreement_is_refused_until_removed(app, db, staff):
    agreement = AgreementFactory()
    document, _ = services.add_document(db, staff, agreement, "mou.pdf", pdf_bytes())
    with pytest.raises(ValidationFailed) as caught:
        services.add_document(db, staff, agreement, "again.pdf", pdf_bytes())
    assert caught.value.errors == {"file": "This file is already attached as “mou.pdf”."}

    services.remove_document(db, staff, document)
    again, _ = services.add_document(db, staff, agreement, "again.pdf", pdf_bytes())
    assert again.id != document.id
    assert fresh(db, document).removed_by_id == staff.id


def test_removed_document_keeps_its_file_and_cannot_be_removed_twice(app, db, staff):
    agreement = AgreementFactory()
    document, _ = services.add_document(db, staff, agreement, "mou.pdf", pdf_bytes())
    services.remove_document(db, staff, document)
    assert fresh(db, document).is_removed
    assert len(stored_files(app)) == 1
    with pytest.raises(ValidationFailed) as caught:
        services.remove_document(db, staff, fresh(db, document))
    assert caught.value.errors == {"file": "This document was already removed."}
    kinds = [c.kind for c in fresh(db, agreement).history]
    assert kinds == [ChangeKind.DOCUMENT_REMOVED, ChangeKind.DOCUMENT_ADDED]


NOT_A_DOCUMENT = (
    "This file is not a PDF, Word (DOCX), Excel (XLSX), OpenDocument text (ODT), PNG or JPEG "
    "document, whatever its name says."
)


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("contract.pdf", REFUSED["exe"][0], NOT_A_DOCUMENT),
        ("contract.docx", REFUSED["plain zip"][0], NOT_A_DOCUMENT),
        (
            "contract.docx",
            REFUSED["docm"][0],
            "Documents with macros are not accepted; save it without macros.",
        ),
        ("contract.odt", REFUSED["encrypted odt"][0], NOT_A_DOCUMENT),
        ("contract.pdf", b"", "The file is empty; choose the document to upload."),
        (
            "contract.pdf",
            b"%PDF-1.4\n" + bytes(documents.MAX_BYTES),
            "The file is larger than 20 MB; documents can be at most 20 MB.",
        ),
    ],
    ids=["exe", "zip", "macros", "encrypted", "empty", "too large"],
)
def test_unacceptable_upload_is_refused_and_nothing_is_kept(
    app, db, staff, filename, content, message
):
    agreement = AgreementFactory()
    before = table_counts(db)
    with pytest.raises(ValidationFailed) as caught:
        services.add_document(db, staff, agreement, filename, content)
    assert caught.value.errors == {"file": message}
    assert table_counts(db) == before
    assert stored_files(app) == []


def test_a_document_of_exactly_20_mb_is_accepted(app, db, staff):
    pdf = pdf_bytes()
    content = pdf[:9] + b"%" + bytes(documents.MAX_BYTES - len(pdf) - 2) + b"\n" + pdf[9:]
    assert len(content) == documents.MAX_BYTES
    document, _ = services.add_document(db, staff, AgreementFactory(), "big.pdf", content)
    assert document.size == documents.MAX_BYTES


def test_description_with_control_characters_is_refused(app, db, staff):
    with pytest.raises(ValidationFailed) as caught:
        services.add_document(db, staff, AgreementFactory(), "a.pdf", pdf_bytes(), "x\u202ey")
    assert caught.value.errors == {
        "description": "Remove the invisible control characters from the description."
    }
    assert stored_files(app) == []


def test_only_staff_add_documents(app, db, focal):
    agreement = AgreementFactory()
    with pytest.raises(OutOfScope):
        services.add_document(db, focal, agreement, "a.pdf", pdf_bytes())


def test_store_writes_once_and_leaves_no_temporary_file(app):
    content = png_bytes()
    sha256 = documents.store(content)
    path = documents.stored_path(sha256)
    first_written = path.stat().st_mtime_ns
    assert documents.store(content) == sha256
    assert path.stat().st_mtime_ns == first_written
    assert stored_files(app) == [path]


@pytest.mark.parametrize("value", ["../../etc/passwd", "A" * 64, "0" * 63, ""])
def test_stored_path_accepts_only_a_hash(app, value):
    with pytest.raises(ValueError, match="SHA-256"):
        documents.stored_path(value)


def test_relative_upload_path_is_served_from_where_it_was_written(app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app.config["UPLOAD_PATH"] = "relative-uploads"
    sha256 = documents.store(pdf_bytes())
    path = documents.stored_path(sha256)
    assert path.is_absolute()
    assert path == tmp_path / "relative-uploads" / "agreements" / sha256[:2] / sha256
