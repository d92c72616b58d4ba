"""Reading an uploaded spreadsheet a row at a time: CSV (UTF-8, or Windows-1252) and XLSX.

Nothing here holds a whole file in memory: an upload is copied to disk in chunks (hashed and
measured on the way), CSV is read with the csv module from the open file, XLSX with openpyxl's
read-only mode. A cell is always read as its stored text or number, never evaluated: a file with a
formula in it is refused whole (`scan`), before anything is imported.

Encodings: UTF-8 (with or without a byte-order mark) is read as is. A file that is not UTF-8 but
reads as Windows-1252 (what Excel on Windows saves as "CSV") is read as Windows-1252, and the
mapping page says so, so the preview shows whether "Müller" came out right. UTF-16 and anything
with NUL bytes or control characters is refused with a message saying how to save the file.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import os
import re
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from .errors import Invalid

CHUNK = 64 * 1024
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls (and .doc) format
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# What a spreadsheet treats as the start of a formula when the cell is opened from a CSV.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
csv.field_size_limit(1024 * 1024)  # one cell of a MB at most: a bigger one is not a lead's data


@dataclass
class Stored:
    """An upload copied to disk: where, its SHA-256, its size, and how it is read."""

    path: str
    sha256: str
    size: int
    kind: str  # "csv" | "xlsx"
    encoding: str | None  # CSV only: "utf-8-sig" or "cp1252"


def mb(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def store_upload(stream, filename: str, folder: str, max_bytes: int) -> Stored:
    """Copy the uploaded `stream` into `folder` chunk by chunk; Invalid (and nothing kept) when it is
    empty, too large, or not a CSV or XLSX file."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"upload-{uuid.uuid4().hex}.part")
    digest, size, head = hashlib.sha256(), 0, b""
    try:
        with open(path, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise Invalid(
                        f"The file is larger than {mb(max_bytes)}, the most an import takes. "
                        "Split it into smaller files.",
                        "file",
                    )
                if len(head) < 8:
                    head += chunk[:8]
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise Invalid("The file is empty.", "file")
        kind = _kind(filename, head)
        encoding = csv_encoding(path) if kind == "csv" else None
    except BaseException:
        os.remove(path)
        raise
    return Stored(path, digest.hexdigest(), size, kind, encoding)


def _kind(filename: str, head: bytes) -> str:
    ext = os.path.splitext(filename or "")[1].lower()
    if head.startswith(OLE_MAGIC):
        raise Invalid(
            "This is an old Excel .xls file: save it as .xlsx or CSV (UTF-8) and upload that.", "file"
        )
    if head.startswith(XLSX_MAGIC):
        if ext not in (".xlsx", ".xlsm", ""):
            raise Invalid("This is not a CSV or XLSX file.", "file")
        return "xlsx"
    if ext in (".xlsx", ".xlsm", ".xls"):
        raise Invalid("This file is named as a spreadsheet but is not one: save it again as .xlsx.", "file")
    if ext not in (".csv", ".txt", ".tsv", ""):
        raise Invalid("Upload a CSV or XLSX file.", "file")
    return "csv"


def csv_encoding(path: str) -> str:
    """'utf-8-sig' or 'cp1252' for the whole file (read through once), else Invalid."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise Invalid("This CSV is saved as UTF-16. Save it as “CSV UTF-8” and upload it again.", "file")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            _decode_all(path, encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    raise Invalid(
        "This file is neither UTF-8 nor Windows-1252 text. Save it as “CSV UTF-8” and upload it again.",
        "file",
    )


def _decode_all(path: str, encoding: str) -> None:
    decoder = codecs.getincrementaldecoder(encoding)()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            if b"\x00" in chunk or CONTROL.search(decoder.decode(chunk)):
                raise Invalid("This file holds binary data, not text: upload a CSV or XLSX file.", "file")
        decoder.decode(b"", final=True)


def cell_text(value) -> str | date:
    """A cell as the import reads it: text (trimmed), or a date for a date cell."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (int, str)):
        return str(value).strip()
    raise Invalid("formula", None)  # openpyxl's ArrayFormula and friends: a formula, never a value


def _csv_rows(path: str, encoding: str) -> Iterator[list]:
    with open(path, newline="", encoding=encoding) as fh:
        sample = fh.read(CHUNK)
        fh.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
        for row in csv.reader(fh, dialect):
            yield [cell.strip() for cell in row]


def _xlsx_rows(path: str) -> Iterator[list]:
    from openpyxl import load_workbook

    handle = open(path, "rb")  # a file object: openpyxl would refuse the upload's name (no .xlsx)
    try:
        try:
            book = load_workbook(handle, read_only=True, data_only=False)
            sheet = book.worksheets[0]
        except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
            raise Invalid(
                "This XLSX file cannot be read: open it in a spreadsheet and save it again.", "file"
            ) from None
        try:
            for row in sheet.iter_rows(values_only=True):
                yield [cell_text(value) for value in row]
        finally:
            book.close()
    finally:
        handle.close()


def rows(stored_path: str, kind: str, encoding: str | None) -> Iterator[list]:
    """Every record of the file (the header first) as lists of cells; errors as Invalid."""
    source = _xlsx_rows(stored_path) if kind == "xlsx" else _csv_rows(stored_path, encoding or "utf-8-sig")
    try:
        yield from source
    except csv.Error as exc:
        raise Invalid(f"This CSV cannot be read ({exc}).", "file") from None
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise Invalid(
            "This XLSX file cannot be read: open it in a spreadsheet and save it again.", "file"
        ) from None


def is_blank(row: list) -> bool:
    return all(cell == "" for cell in row)


def looks_like_data(cell) -> bool:
    """A header cell that is a date, a number or an email address: the file has no header row."""
    if isinstance(cell, date):
        return True
    text = str(cell).strip()
    return "@" in text or bool(re.fullmatch(r"[+-]?[0-9][0-9 .,/-]*", text))


def looks_like_formula(cell) -> bool:
    return isinstance(cell, str) and cell.startswith("=") and len(cell) > 1


@dataclass
class Scanned:
    headers: list[str]
    header_row: int  # the record number of the header (1 unless blank rows come first)
    total_rows: int  # records after the header, blank ones included (the progress bar counts these)
    data_rows: int  # the records that hold something


def scan(path: str, kind: str, encoding: str | None, max_rows: int) -> Scanned:
    """The header and the number of rows, read through once; Invalid when the file has no header,
    no rows, more than `max_rows` rows, or a formula in any cell."""
    records = rows(path, kind, encoding)
    headers, header_row, total, data = None, 0, 0, 0
    try:
        for number, row in enumerate(records, start=1):
            if headers is None:
                if is_blank(row):
                    continue
                if any(looks_like_data(cell) for cell in row):
                    raise Invalid(
                        "The first row looks like data, not column names: add a first row that "
                        "names the columns (e.g. Company, E-mail, Phone).",
                        "file",
                    )
                headers, header_row = header_names(row), number
                continue
            total += 1
            if is_blank(row):
                continue
            data += 1
            if data > max_rows:
                raise Invalid(
                    f"The file has more than {max_rows:,} rows, the most one import takes. "
                    "Split it into smaller files.",
                    "file",
                )
            for index, cell in enumerate(row):
                if looks_like_formula(cell):
                    column = headers[index] if index < len(headers) else f"column {index + 1}"
                    raise Invalid(
                        f"Row {number}, column “{column}” holds a formula ({cell[:40]}). Formulas "
                        "are never run or imported: paste the values instead (in Excel: Paste "
                        "Special → Values) and upload again.",
                        "file",
                    )
    except Invalid as exc:
        if exc.message == "formula":
            raise Invalid(
                "The sheet holds formulas. Formulas are never run or imported: paste the values "
                "instead (in Excel: Paste Special → Values) and upload again.",
                "file",
            ) from None
        raise
    finally:
        records.close()
    if headers is None:
        raise Invalid("The file has nothing in it: the first row must name the columns.", "file")
    if not any(h for h in headers if not h.startswith("Column ")):
        raise Invalid("The first row must name the columns (e.g. Company, E-mail, Phone).", "file")
    if data == 0:
        raise Invalid("The file names its columns but has no rows to import.", "file")
    return Scanned(headers, header_row, total, data)


def header_names(row: list) -> list[str]:
    """The header cells as unique names ("Column 3" for a blank one, "Email (2)" for a repeat)."""
    last = max((i for i, cell in enumerate(row) if str(cell).strip()), default=-1)
    names: list[str] = []
    for index, cell in enumerate(row[: last + 1]):
        name = str(cell).strip()[:100] or f"Column {index + 1}"
        base, n = name, 2
        while name in names:
            name, n = f"{base} ({n})", n + 1
        names.append(name)
    return names


def neutralise(value) -> str:
    """A value as a cell of a CSV a person opens in a spreadsheet: text that would start a formula
    gets a leading apostrophe (OWASP's advice against CSV injection)."""
    text = "" if value is None else value.isoformat() if isinstance(value, date) else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text
