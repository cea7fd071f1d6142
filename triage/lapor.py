"""SP4N-LAPOR! exports: the "Laporan Ringkas" layout as batch input, and results in LAPOR!'s own names.

LAPOR!'s admin export is a spreadsheet (sheet "Laporan Ringkas"): a block of about ten rows about the
export (agency, period, date generated), then a header row (``Tracking ID``, ``Tanggal Laporan Masuk``,
``Waktu Laporan Masuk``, ..., ``Isi Laporan Awal``, ..., ``Instansi Terdisposisi``, ``Status Laporan``,
``Alasan Tunda/Arsip``, ...), then one report a row. CSV copies of it have the same columns, with or without
the block. :func:`header_index` finds the header row; :func:`is_export` tells such a header from any other.

What a batch job does with an export (:mod:`triage.batch`): the complaint is ``Isi Laporan Awal`` (the
citizen's own words; ``Isi Laporan Akhir`` is the admin's edit), its id ``Tracking ID``; the output keeps
every column and adds, besides the usual suggestion columns, :data:`SUGGESTED_BODY` (the suggested OPD as
LAPOR! names it, from the deployment's ``lapor_name``) and :data:`AGREES` (whether the report's own
``Instansi Terdisposisi`` is that body). Loaded into the review queue, each report is a complaint received
through the ``lapor`` channel at its ``Tanggal``/``Waktu Laporan Masuk`` (WIB), with its Tracking ID as
external id; reports LAPOR! archived (``Status Laporan`` "Diarsipkan ...") are not queued.
"""

from __future__ import annotations

import csv
import math
import re
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from triage.errors import DataError
from triage.taxonomy import Taxonomy

TRACKING_ID = "Tracking ID"
TEXT = "Isi Laporan Awal"
DATE = "Tanggal Laporan Masuk"
TIME = "Waktu Laporan Masuk"
BODY = "Instansi Terdisposisi"
STATUS = "Status Laporan"
SHEET = "Laporan Ringkas"
SIGNATURE: tuple[str, ...] = (TRACKING_ID, TEXT)
"""Columns whose presence in one row makes it the header of a LAPOR! export."""
HEADER_SEARCH_ROWS = 30
"""How far down a file the header row is looked for (LAPOR!'s block is about ten rows)."""
CHANNEL = "lapor"
WIB = timezone(timedelta(hours=7), "WIB")
"""LAPOR! writes dates and times without a zone; they are read as Western Indonesian Time."""

SUGGESTED_BODY = "Saran Instansi Terdisposisi"
AGREES = "Saran Sesuai Disposisi"
OUTPUT_COLUMNS: tuple[str, ...] = (SUGGESTED_BODY, AGREES)
"""Columns a batch job adds to a LAPOR! export, after the suggestion columns."""
YES, NO = "ya", "tidak"

_MONTHS = {"januari": "jan", "februari": "feb", "maret": "mar", "april": "apr", "mei": "may", "juni": "jun",
           "juli": "jul", "agustus": "aug", "agu": "aug", "agt": "aug", "september": "sep", "oktober": "oct",
           "okt": "oct", "november": "nov", "nop": "nov", "desember": "dec", "des": "dec"}
_MONTH_WORD = re.compile(r"[A-Za-z]+")


def is_export(columns: Iterable[object]) -> bool:
    """Whether a header row is a LAPOR! export's (it names ``Tracking ID`` and ``Isi Laporan Awal``)."""
    names = {str(c).strip() for c in columns if c is not None}
    return all(name in names for name in SIGNATURE)


def header_index(rows: Iterable[Sequence[object]]) -> int:
    """0-based index of the header row among the first :data:`HEADER_SEARCH_ROWS` ``rows``: the first that
    :func:`is_export`; 0 (the first row) when none is."""
    for index, row in enumerate(rows):
        if index >= HEADER_SEARCH_ROWS:
            break
        if is_export(row):
            return index
    return 0


def csv_header_index(path: Path) -> int:
    """:func:`header_index` of a CSV file (0 for one that cannot be read: the reader reports it)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return header_index(csv.reader(handle))
    except (UnicodeDecodeError, csv.Error):
        return 0


# -- XLSX -----------------------------------------------------------------------------------------------

def open_sheet(path: Path):
    """The workbook (read-only, streamed: memory stays flat for large exports) and its "Laporan Ringkas"
    sheet, else its first. Close the workbook after use. :class:`DataError` if it is not an XLSX file."""
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, OSError) as exc:
        raise DataError(f"cannot be read as an XLSX workbook ({type(exc).__name__}: {exc}). Save it from the "
                        "spreadsheet program as .xlsx, or export it as CSV.", path=str(path)) from None
    sheet = workbook[SHEET] if SHEET in workbook.sheetnames else workbook.worksheets[0]
    return workbook, sheet


def xlsx_rows(path: Path) -> Iterator[tuple[int, list[object]]]:
    """Every row of the sheet as ``(row number as the spreadsheet shows it, values)``, streamed."""
    workbook, sheet = open_sheet(path)
    try:
        for number, row in enumerate(sheet.iter_rows(values_only=True), 1):
            yield number, list(row)
    finally:
        workbook.close()


def xlsx_header(path: Path) -> tuple[int, list[str]]:
    """0-based index of the header row of an XLSX file (:func:`header_index`) and its column names."""
    first: list[list[object]] = []
    with closing(xlsx_rows(path)) as rows:
        for _, row in rows:
            first.append(row)
            if len(first) >= HEADER_SEARCH_ROWS:
                break
    if not first:
        return 0, []
    index = header_index(first)
    return index, column_names(first[index])


def column_names(row: Sequence[object]) -> list[str]:
    """A header row's cells as column names; trailing empty cells dropped, empty ones inside named
    ``Kolom <n>`` (the spreadsheet column's number)."""
    cells = [cell_text(c).strip() for c in row]
    while cells and not cells[-1]:
        cells.pop()
    return [c or f"Kolom {i}" for i, c in enumerate(cells, 1)]


def cell_text(value: object) -> str:
    """A spreadsheet cell as text, the way a CSV copy shows it: whole numbers without ``.0`` (tracking ids),
    dates as ISO (``2024-02-24``, with ``T``-less time when there is one), empty cells as ``""``."""
    if value is None or isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


# -- the queue --------------------------------------------------------------------------------------------

def received_at(day: object, clock: object = None) -> datetime | None:
    """When LAPOR! received a report: ``Tanggal Laporan Masuk`` (ISO, ``24 Feb 2024``, ``24 Mei 2024``,
    ``24/02/2024``) and ``Waktu Laporan Masuk`` (``13:30:21``), read as WIB; ``None`` if the date cannot be
    read (a time that cannot be read is left out)."""
    import pandas as pd

    text = cell_text(day).strip()
    if not text:
        return None
    words = _MONTH_WORD.sub(lambda m: _MONTHS.get(m.group(0).lower(), m.group(0)), text)
    try:
        with warnings.catch_warnings():  # "could not infer format": each value is parsed on its own
            warnings.simplefilter("ignore", UserWarning)
            parsed = pd.to_datetime(words, dayfirst=not re.match(r"\d{4}-", words))
    except (ValueError, OverflowError):
        return None
    if pd.isna(parsed):
        return None
    moment = parsed.to_pydatetime()
    hours = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", cell_text(clock).strip())
    if hours and moment.time() == time():
        h, m, s = int(hours[1]), int(hours[2]), int(hours[3] or 0)
        if h < 24 and m < 60 and s < 60:
            moment = moment.replace(hour=h, minute=m, second=s)
    return moment.replace(tzinfo=WIB) if moment.tzinfo is None else moment


def archived(status: object) -> bool:
    """Whether LAPOR! archived the report (``Diarsipkan oleh Admin``/``oleh Sistem``): nothing to route."""
    return cell_text(status).strip().lower().startswith("diarsipkan")


# -- output -----------------------------------------------------------------------------------------------

def output_columns(suggested_opd: Sequence[str], dispositioned: Sequence[object] | None,
                   taxonomy: Taxonomy) -> dict[str, list[str]]:
    """The columns a batch job adds to an export: the suggested body as LAPOR! names it, and ``ya``/``tidak``
    whether the report's own ``Instansi Terdisposisi`` is that body (empty when it names none, or a body the
    deployment does not know)."""
    bodies = [taxonomy.lapor_name(code) for code in suggested_opd]
    agrees = [""] * len(bodies)
    if dispositioned is not None:
        known: dict[str, str | None] = {}
        for i, (code, body) in enumerate(zip(suggested_opd, dispositioned)):
            name = cell_text(body).strip()
            if name not in known:
                known[name] = taxonomy.opd_of_lapor_name(name) if name else None
            if known[name] is not None:
                agrees[i] = YES if known[name] == code else NO
    return {SUGGESTED_BODY: bodies, AGREES: agrees}
