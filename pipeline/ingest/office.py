"""What a binary raw file is, before any parser sees it: old Office (OLE) files,
password-protected workbooks, PDFs, and the zip checks that keep .docx and .xlsx
parsing within bounded memory and time."""
from __future__ import annotations

import io
import zipfile

from .table import IngestError, refuse

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"       # Compound File Binary: .doc, .xls, encrypted OOXML
ZIP_MAGIC = b"PK\x03\x04"
PDF_MAGIC = b"%PDF-"
# A report's parts unzip to a few MiB; a bomb declares far more, or a far higher ratio.
# Pictures (word/media) barely compress and are not parsed: the XML has its own bound.
MAX_UNZIPPED_BYTES = 256 << 20
MAX_XML_BYTES = 32 << 20
MAX_MEMBERS = 2000
MAX_RATIO = 200              # uncompressed / compressed, for members over RATIO_FLOOR
RATIO_FLOOR = 1 << 20
# openpyxl's normal mode (needed for merged ranges) holds every cell as an object:
# bound the sheets' XML so that its memory stays in the low hundreds of MiB
MAX_SHEET_XML_BYTES = 16 << 20


def refuse_other_binaries(data: bytes, name: str) -> None:
    """Refuse the binary files that are no report we read, saying what to do."""
    if data.startswith(OLE_MAGIC):
        # stream names are UTF-16 in the compound file's directory
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise refuse(name, 0, "the file is password-protected (an encrypted Office document)",
                         "open it with its password, remove the password (File › Info › Protect) and save it again")
        if "WordDocument".encode("utf-16-le") in data:
            raise refuse(name, 0, "an old binary Word document (.doc), which is not read",
                         "open it in Word or LibreOffice and save it as .docx")
        if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
            raise refuse(name, 0, "an old binary Excel workbook (.xls), which is not read",
                         "open it in Excel or LibreOffice and save it as .xlsx")
        raise refuse(name, 0, "an old binary Office file, which is not read",
                     "open it in its Office program and save it as .docx or .xlsx")
    if data.startswith(PDF_MAGIC):
        raise refuse(name, 0, "a PDF, which is not read",
                     "download the report as a web page, .docx or .xlsx where the site offers one; "
                     "else copy its table into a .xlsx or a text file (cells separated by |)")


def open_zip(data: bytes, name: str, kind: str) -> zipfile.ZipFile:
    """The zip of a .docx or .xlsx, refused when it is damaged or would unzip too large."""
    save_as = {"docx": "save it again from Word as .docx", "xlsx": "save it again from Excel as .xlsx"}[kind]
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as e:
        # NotImplementedError: a damaged header claiming a zip version or method unknown to zipfile
        raise refuse(name, 0, f"the .{kind} file is damaged or cut short ({e})",
                     f"download it again, or {save_as}") from e
    total = sum(m.file_size for m in members)
    xml = sum(m.file_size for m in members if m.filename.endswith((".xml", ".rels")))
    worst = max(members, key=lambda m: m.file_size / max(m.compress_size, 1), default=None)
    if (len(members) > MAX_MEMBERS or total > MAX_UNZIPPED_BYTES or xml > MAX_XML_BYTES
            or (worst and worst.file_size > RATIO_FLOOR and worst.file_size / max(worst.compress_size, 1) > MAX_RATIO)):
        raise refuse(name, 0, f"the .{kind} file would unzip to {total:,} bytes ({xml:,} of XML) in "
                              f"{len(members)} parts, over the limits ({MAX_UNZIPPED_BYTES >> 20} MiB, "
                              f"{MAX_XML_BYTES >> 20} MiB of XML, ratio {MAX_RATIO}): "
                              "a decompression bomb or not a report",
                     f"{save_as}; a report's table is far smaller")
    sheets = sum(m.file_size for m in members if m.filename.startswith("xl/worksheets/"))
    if sheets > MAX_SHEET_XML_BYTES:
        raise refuse(name, 0, f"the workbook's sheets unzip to {sheets:,} bytes, over the "
                              f"{MAX_SHEET_XML_BYTES >> 20} MiB limit",
                     "copy the report's table into a new workbook (delete other sheets and formatted empty rows)")
    return archive


def damaged(name: str, kind: str, error: Exception) -> IngestError:
    save_as = {"docx": "save it again from Word as .docx", "xlsx": "save it again from Excel as .xlsx"}[kind]
    return refuse(name, 0, f"the .{kind} file is damaged or not {'a Word' if kind == 'docx' else 'an Excel'} "
                           f"file ({type(error).__name__}: {str(error)[:200]})", f"download it again, or {save_as}")
