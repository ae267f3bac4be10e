"""Reading a CSV file as staff save it from Excel: UTF-8 (with or without BOM) or GBK, headers in
English or Chinese, full-width characters folded, blank rows skipped, Excel line numbers kept.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator, Mapping


class CsvFileError(ValueError):
    """The whole file was refused (cannot be decoded, or a required column is missing)."""


def decode(data: bytes) -> str:
    """The file's text: UTF-8 with or without BOM, else GBK; CsvFileError when neither."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CsvFileError("the file is UTF-16 (Excel's 'Unicode text'): save it as 'CSV UTF-8' instead")
    for encoding in ("utf-8-sig", "gbk"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CsvFileError("the file is neither UTF-8 nor GBK text: save it from Excel as 'CSV UTF-8'")


def clean(value: str) -> str:
    """Full-width letters, digits and punctuation become ASCII; surrounding blanks go."""
    return unicodedata.normalize("NFKC", value).strip()


def key(value: str) -> str:
    return re.sub(r"[\s\-]+", "_", clean(value).lower())


def read_table(
    data: bytes, columns: Mapping[str, tuple[str, ...]], required: tuple[str, ...]
) -> tuple[set[str], Iterator[tuple[int, dict[str, str]]]]:
    """The columns present and an iterator of (Excel line, {column: cleaned cell}) for non-blank rows."""
    rows = csv.reader(io.StringIO(decode(data), newline=""))
    header = next(rows, None)
    if not header:
        raise CsvFileError("the file is empty")
    alias = {key(name): col for col, names in columns.items() for name in names}
    positions: dict[str, int] = {}
    for index, title in enumerate(header):
        col = alias.get(key(title))
        if col is not None:
            if col in positions:
                raise CsvFileError(f"the header (line 1) has the column {title.strip()!r} twice")
            positions[col] = index
    missing = [" / ".join(columns[col]) for col in required if col not in positions]
    if missing:
        raise CsvFileError(f"the header (line 1) lacks the column(s): {', '.join(missing)}")

    def body() -> Iterator[tuple[int, dict[str, str]]]:
        for line, row in enumerate(rows, start=2):  # one record is one Excel row, even with line breaks
            cells = {col: clean(row[i]) if i < len(row) else "" for col, i in positions.items()}
            if any(cells.values()):
                yield line, cells

    return set(positions), body()
