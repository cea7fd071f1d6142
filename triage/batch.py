"""Step 6: classify a backlog file in chunks, on every core, resumably.

A batch job reads a CSV, JSONL or Parquet file in chunks of ``chunk_size`` rows, sends each chunk to a
worker that holds the model (loaded once per worker), and keeps the input's columns plus the suggestion::

    suggested_<head>, <head>_confidence, <head>_needs_review   for each head
    needs_review, model_version

Resuming. Work happens in a folder next to the output, ``.<output name>.parts/``: one finished part file
per chunk (written under a temporary name, renamed when complete, then marked done), and a manifest
holding the input's size, mtime and sha256, the model and the arguments that shape the output. Run again
with the same arguments, a job skips the chunks that are done; a manifest that does not match (another
input, another model) is refused with :class:`ConflictError` rather than mixed. At the end the parts are
concatenated into a temporary file that replaces the output in one ``os.replace``, so the output is never
half-written, and the parts folder is removed.

Bad rows (text missing, empty, blank, not a string or without a single letter; id missing) go to the errors
file ``<output stem>.errors.csv`` with their row number and reason; the job goes on and counts them. Row
numbers are 1-based: for CSV and Parquet the n-th record after the header, for JSONL the line number.

Engines. The job plans its chunks first (:func:`plan`): where each lies in the input, found by a streaming
byte scan of a CSV (record boundaries, respecting quoted line breaks) or JSONL file, or by row ranges of a
Parquet file. Workers then read their own chunk, classify it and write its parts; this process only hands
out chunks, collects done markers and assembles the output. ``local`` runs them in a pool of ``jobs``
processes (in this process when ``jobs == 1`` or the input is a single chunk); ``dask``
(:mod:`triage.batch_dask`) on a Dask distributed cluster, whose workers do the same when they see the input
and the parts folder at the same paths, and otherwise only classify chunks that this process reads and
writes. An input the scan cannot split exactly as pandas reads it (unusual quoting, lone carriage returns) is
read here in order too, streaming, with at most two chunks per worker in flight. Every way uses the same
chunks, so it writes the same output. The library never prints: it reports progress through
``progress(rows)``.
"""

from __future__ import annotations

import gc
import hashlib
import io
import json
import math
import multiprocessing as mp
import os
import pickle
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from triage import lapor
from triage.deadlines import Deadlines, install
from triage.errors import ConflictError, DataError
from triage.registry import ModelRegistry
from triage.suggest import Suggester, text_problem
from triage.taxonomy import HEADS

FORMATS: tuple[str, ...] = ("csv", "jsonl", "parquet", "xlsx")
ENGINES: tuple[str, ...] = ("local", "dask")
EXTENSIONS: dict[str, str] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet",
                              ".pq": "parquet", ".xlsx": "xlsx"}
DEFAULT_CHUNK_SIZE = 5000
CACHE_ROWS = 100_000
"""Rows a worker classifies with one set of per-word caches before it empties them (:func:`suggester_for`)."""
SUGGESTION_COLUMNS: tuple[str, ...] = tuple(
    name for head in HEADS for name in (f"suggested_{head}", f"{head}_confidence", f"{head}_needs_review")
) + ("needs_review", "model_version")
ERROR_COLUMNS: tuple[str, ...] = ("row", "id", "reason", "text")

_MANIFEST = "manifest.json"
Progress = Callable[[int], None]


# -- the job ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BatchJob:
    """What to classify, where to, and with which model. Paths are resolved by :func:`prepare`."""

    input: Path
    output: Path
    input_format: str
    output_format: str
    text_column: str = "text"
    id_column: str = "id"
    models_dir: Path = Path("models")
    deployment: str = "kukar"
    model_version: str = ""
    chunk_size: int = DEFAULT_CHUNK_SIZE
    header_row: int = 0
    """0-based row of the input's header (CSV, XLSX): the rows above it (a LAPOR! export's block) are skipped."""
    lapor: bool = False
    """The input is an SP4N-LAPOR! export (:mod:`triage.lapor`): LAPOR!'s columns are added to the output."""

    @property
    def part_format(self) -> str:
        """The format of the part files: the output's, but Parquet for an XLSX output (assembled at the end)."""
        return "parquet" if self.output_format == "xlsx" else self.output_format

    @property
    def added_columns(self) -> tuple[str, ...]:
        """The columns the output adds to the input's."""
        return SUGGESTION_COLUMNS + (lapor.OUTPUT_COLUMNS if self.lapor else ())

    @property
    def parts_dir(self) -> Path:
        """The work folder of this job: ``.<output name>.parts`` next to the output."""
        return parts_dir_of(self.output)

    @property
    def errors_path(self) -> Path:
        """Where bad rows go: ``<output stem>.errors.csv`` next to the output."""
        return errors_path_of(self.output)


@dataclass
class BatchSummary:
    """What a job did."""

    output: Path
    errors_path: Path | None
    model_version: str
    rows: int = 0
    classified: int = 0
    bad: int = 0
    needs_review: int = 0
    chunks: int = 0
    resumed_chunks: int = 0
    seconds: float = 0.0
    queued: int | None = None
    already_queued: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def format_of(path: Path, given: str | None = None) -> str:
    """The format ``given``, else the one ``path``'s extension names; :class:`DataError` if neither says."""
    if given is not None:
        if given not in FORMATS:
            raise DataError(f"unknown format '{given}'. Use one of: {', '.join(FORMATS)}.", path=str(path))
        return given
    found = EXTENSIONS.get(path.suffix.lower())
    if found is None:
        raise DataError(f"cannot tell the format from the extension '{path.suffix}'. Name the file .csv, "
                        f".jsonl, .parquet or .xlsx, or give the format ({', '.join(FORMATS)}) with --format.",
                        path=str(path))
    return found


def parts_dir_of(output: Path) -> Path:
    """The work folder of the job writing ``output``."""
    return output.parent / f".{output.name}.parts"


def errors_path_of(output: Path) -> Path:
    """The bad-rows file of the job writing ``output``."""
    return output.with_name(f"{output.stem}.errors.csv")


def prepare(input: str | Path, output: str | Path, *, input_format: str | None = None,
            output_format: str | None = None, text_column: str | None = None, id_column: str | None = None,
            models_dir: str | Path = "models", deployment: str = "kukar", model_version: str | None = None,
            chunk_size: int = DEFAULT_CHUNK_SIZE) -> BatchJob:
    """Check everything a job needs before any work starts and return it as a :class:`BatchJob`.

    :class:`DataError` for a missing input, an unknown format, a missing text or id column, or an input that
    already has a column the output adds; model errors from the registry for a missing model.

    A CSV or XLSX file whose header (found in its first rows, below a block of other rows if need be) is an
    SP4N-LAPOR! export's (:mod:`triage.lapor`) is read as one: text and id default to ``Isi Laporan Awal``
    and ``Tracking ID``; otherwise they default to ``text`` and ``id``.
    """
    input, output = Path(input).resolve(), Path(output).resolve()
    if not input.is_file():
        raise DataError("no such input file.", path=str(input))
    errors_file = errors_path_of(output)
    if input in (output, errors_file) or parts_dir_of(output) in input.parents:
        raise DataError(f"the job would overwrite its own input (output {output.name}, bad rows to "
                        f"{errors_file.name}); write the output elsewhere.", path=str(input))
    if chunk_size < 1:
        raise DataError(f"chunk size must be at least 1 row; got {chunk_size}.", path=str(input))
    fmt = format_of(input, input_format)
    out_fmt = output_format or EXTENSIONS.get(output.suffix.lower()) or fmt
    if out_fmt not in FORMATS:
        raise DataError(f"unknown output format '{out_fmt}'. Use one of: {', '.join(FORMATS)}.",
                        path=str(output))
    header_row = header_row_of(input, fmt)
    columns = read_columns(input, fmt, header_row)
    is_lapor = fmt in ("csv", "xlsx") and lapor.is_export(columns)
    text_column = text_column or (lapor.TEXT if is_lapor else "text")
    id_column = id_column or (lapor.TRACKING_ID if is_lapor else "id")
    where = f" in header row {header_row + 1}" if header_row else ""
    for role, name, option in (("text", text_column, "--text-column"), ("id", id_column, "--id-column")):
        if name not in columns:
            raise DataError(f"no {role} column '{name}'{where} (columns: "
                            f"{', '.join(map(str, columns)) or 'none'}). Name the {role} column with {option}.",
                            path=str(input), field=name)
    added = SUGGESTION_COLUMNS + (lapor.OUTPUT_COLUMNS if is_lapor else ())
    clash = [c for c in columns if c in added]
    if clash:
        raise DataError(f"the input already has column(s) {', '.join(clash)}, which the output adds. Rename "
                        "or drop them first.", path=str(input), field=clash[0])
    registry = ModelRegistry(models_dir)
    version = registry.info(model_version or registry.current_version()).version  # pinned for the whole job
    return BatchJob(input=input, output=output, input_format=fmt, output_format=out_fmt,
                    text_column=text_column, id_column=id_column, models_dir=Path(models_dir).resolve(),
                    deployment=str(deployment), model_version=version, chunk_size=chunk_size,
                    header_row=header_row, lapor=is_lapor)


def header_row_of(path: Path, fmt: str) -> int:
    """0-based row of the header of a CSV or XLSX file: an SP4N-LAPOR! export's header within its first rows
    (:func:`triage.lapor.header_index`), else the first row. Other formats have no header rows."""
    if fmt == "csv":
        return lapor.csv_header_index(path)
    if fmt == "xlsx":
        return lapor.xlsx_header(path)[0]
    return 0


def run(job: BatchJob, *, jobs: int | None = None, engine: str = "local", scheduler: str | None = None,
        restart: bool = False, progress: Progress | None = None) -> BatchSummary:
    """Classify ``job.input`` into ``job.output``, resuming a job interrupted earlier.

    ``jobs``: worker processes of the local engine (default: every core), or workers of the LocalCluster the
    dask engine starts when no ``scheduler`` address is given. ``restart`` discards the parts of an earlier
    run instead of resuming. ``progress(rows)`` is called as chunks finish (and for chunks already done).
    """
    if engine not in ENGINES:
        raise DataError(f"unknown engine '{engine}'. Use one of: {', '.join(ENGINES)}.")
    started = time.perf_counter()
    jobs = jobs or os.cpu_count() or 1
    done = _open_parts(job, restart)
    summary = BatchSummary(output=job.output, errors_path=None, model_version=job.model_version)
    report = progress or (lambda rows: None)
    layout: Plan | None = None  # None: this process reads the input and writes the parts
    if engine == "dask":
        from triage.batch_dask import DaskRunner

        runner: _Runner = DaskRunner(job, scheduler, jobs)
        if runner.shares_files:
            try:
                layout = plan(job)
            except BaseException as exc:
                runner.__exit__(type(exc), exc, exc.__traceback__)  # stop the cluster it started
                raise
        else:
            summary.notes.append("the Dask workers cannot read the input or write the parts folder at the same "
                                 "paths (no shared file system): this process read the input and wrote the parts")
    else:
        layout = plan(job)
        chunks = len(layout.slices) if layout.slices is not None else \
            math.ceil(count_rows(job) / job.chunk_size)
        # one chunk: starting workers would only cost time
        runner = _InProcessRunner(job) if jobs == 1 or chunks <= 1 else _PoolRunner(job, jobs)
    if layout is not None and layout.slices is None:
        summary.notes.append(f"this process read the input in order, because {layout.reason}")
    with runner:
        pending: dict[Any, int] = {}

        def collect(futures) -> None:
            for future in futures:
                index = pending.pop(future)
                try:
                    marker = runner.finish(future, index)
                except SliceError as exc:
                    raise _in_order_error(job, exc) from None
                report(marker["rows"])

        items: Iterator[Slice] | Iterator[Chunk] = read_chunks(job) if layout is None or layout.slices is None \
            else iter(layout.slices)
        for item in items:
            summary.chunks += 1
            if item.index in done:
                summary.resumed_chunks += 1
                report(done[item.index]["rows"])
                continue
            future = runner.submit(item) if isinstance(item, Chunk) else \
                runner.submit_slice(item, layout.columns if layout else ())
            pending[future] = item.index
            if len(pending) >= runner.capacity:
                collect(runner.wait_some(list(pending)))
        while pending:
            collect(runner.wait_some(list(pending)))
    markers = _markers(job)
    for marker in markers:
        summary.rows += marker["rows"]
        summary.classified += marker["classified"]
        summary.bad += marker["bad"]
        summary.needs_review += marker["needs_review"]
    _assemble(job, markers)
    summary.errors_path = job.errors_path if summary.bad else None
    shutil.rmtree(job.parts_dir, ignore_errors=True)
    summary.seconds = time.perf_counter() - started
    return summary


def first_bad_row(job: BatchJob, summary: BatchSummary) -> str | None:
    """The first bad row of a finished job as one line: where it is, which column and why (``row 14 (Tracking
    ID 5216807), column 'Isi Laporan Awal': text is empty``); ``None`` without bad rows."""
    if summary.errors_path is None or not summary.errors_path.is_file():
        return None
    with open(summary.errors_path, encoding="utf-8", newline="") as handle:
        record = next(iter(pd.read_csv(handle, dtype=str, keep_default_na=False, nrows=1).itertuples()), None)
    if record is None:
        return None
    kind = "row" if job.input_format in ("csv", "parquet", "xlsx") else "line"
    where = f"{kind} {record.row}" + (f" ({job.id_column} {record.id})" if record.id else "")
    column = job.id_column if record.reason == "id is missing" else job.text_column
    if record.reason.startswith("not "):  # a JSONL line that is no JSON object has no column
        return f"{where}: {record.reason}"
    return f"{where}, column '{column}': {record.reason}"


def _in_order_error(job: BatchJob, error: SliceError) -> DataError:
    """What reading the input in order says about it (the row pandas stopped at, as it always said), else
    ``error``. Only called when a chunk did not read as planned: the input is malformed."""
    try:
        for _ in read_chunks(job):
            pass
    except DataError as exc:
        return exc
    return error


# -- reading ------------------------------------------------------------------------------------------

@dataclass
class Chunk:
    """``chunk_size`` rows of the input: their columns, their row numbers and rows already found bad."""

    index: int
    frame: pd.DataFrame
    rows: np.ndarray
    problems: list[tuple[int, str, str, str]] = field(default_factory=list)  # row, id, reason, text


def read_columns(path: Path, fmt: str, header_row: int = 0) -> list[str]:
    """The column names of an input file (for JSONL: the keys of its first JSON object; lines before it that
    are not one are bad rows, reported by the job), its header being row ``header_row`` (0-based)."""
    try:
        if fmt == "xlsx":
            index, columns = lapor.xlsx_header(path)
            if index != header_row:  # asked for another row than the one found
                rows = [row for number, row in lapor.xlsx_rows(path) if number == header_row + 1]
                columns = lapor.column_names(rows[0]) if rows else []
            return columns
        if fmt == "csv":
            return [str(c) for c in pd.read_csv(path, nrows=0, encoding="utf-8-sig",
                                                skiprows=header_row).columns]
        if fmt == "parquet":
            return list(pq.read_schema(path).names)
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                try:
                    record = json.loads(line) if line.strip() else None
                except json.JSONDecodeError:
                    continue
                if isinstance(record, dict):
                    return list(record)
        return []
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, pa.ArrowException) as exc:
        raise DataError(f"cannot be read as {fmt}: {_first_line(exc)}", path=str(path)) from None


def read_chunks(job: BatchJob) -> Iterator[Chunk]:
    """The input in chunks of ``job.chunk_size`` rows, streamed: memory holds one chunk at a time."""
    readers = {"csv": _csv_chunks, "jsonl": _jsonl_chunks, "parquet": _parquet_chunks, "xlsx": _xlsx_chunks}
    yield from readers[job.input_format](job)


def count_rows(job: BatchJob) -> int:
    """How many rows the input has: exact for Parquet, lines for CSV and JSONL (fast; for progress bars)."""
    if job.input_format == "parquet":
        return pq.ParquetFile(job.input).metadata.num_rows
    if job.input_format == "xlsx":
        workbook, sheet = lapor.open_sheet(job.input)
        try:
            return max((sheet.max_row or 0) - job.header_row - 1, 0)  # the sheet's own count: may include blanks
        finally:
            workbook.close()
    lines, last = 0, b"\n"
    with open(job.input, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            lines += block.count(b"\n")
            last = block[-1:]
    lines += last != b"\n"
    return max(lines - (job.input_format == "csv") - job.header_row, 0)


def _csv_chunks(job: BatchJob) -> Iterator[Chunk]:
    first = 1
    try:
        reader = pd.read_csv(job.input, dtype=str, keep_default_na=False, chunksize=job.chunk_size,
                             encoding="utf-8-sig", skiprows=job.header_row)
        with reader:
            for index, frame in enumerate(reader):
                frame = frame.reset_index(drop=True)
                yield Chunk(index, frame, np.arange(first, first + len(frame)))
                first += len(frame)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot be read as CSV after row {first - 1}: {_first_line(exc)} Fix the file and "
                        "run again with --restart.", path=str(job.input)) from None


def _xlsx_chunks(job: BatchJob) -> Iterator[Chunk]:
    """An XLSX sheet streamed (openpyxl's read-only mode) below its header row; cells as text, the way a CSV
    copy shows them (:func:`triage.lapor.cell_text`); empty rows skipped. Row numbers are the spreadsheet's."""
    columns = read_columns(job.input, "xlsx", job.header_row)
    width = len(columns)
    records: list[list[str]] = []
    rows: list[int] = []
    index = 0
    for number, values in lapor.xlsx_rows(job.input):
        if number <= job.header_row + 1:
            continue
        cells = [lapor.cell_text(v) for v in values[:width]]
        if not any(c.strip() for c in cells):
            continue
        records.append(cells + [""] * (width - len(cells)))
        rows.append(number)
        if len(records) >= job.chunk_size:
            yield Chunk(index, pd.DataFrame(records, columns=columns, dtype=object), np.asarray(rows))
            records, rows, index = [], [], index + 1
    if records or index == 0:
        yield Chunk(index, pd.DataFrame(records, columns=columns, dtype=object), np.asarray(rows, dtype=np.int64))


def _jsonl_chunks(job: BatchJob) -> Iterator[Chunk]:
    records: list[dict] = []
    rows: list[int] = []
    problems: list[tuple[int, str, str, str]] = []
    index = 0
    with open(job.input, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            if not _jsonl_line(number, line, records, rows, problems):
                continue
            if len(records) + len(problems) >= job.chunk_size:
                yield Chunk(index, pd.DataFrame.from_records(records), np.asarray(rows, dtype=np.int64),
                            problems)
                records, rows, problems, index = [], [], [], index + 1
    if records or problems:
        yield Chunk(index, pd.DataFrame.from_records(records), np.asarray(rows, dtype=np.int64), problems)


def _jsonl_line(number: int, line: str, records: list[dict], rows: list[int],
                problems: list[tuple[int, str, str, str]]) -> bool:
    """Add line ``number`` to the chunk's records or its problems; ``False`` for a blank line (skipped)."""
    if not line.strip():
        return False
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        problems.append((number, "", f"not valid JSON ({exc.msg})", line.strip()[:200]))
        return True
    if not isinstance(record, dict):
        problems.append((number, "", "not a JSON object", line.strip()[:200]))
        return True
    records.append(record)
    rows.append(number)
    return True


def _parquet_chunks(job: BatchJob) -> Iterator[Chunk]:
    first = 1
    for index, batch in enumerate(pq.ParquetFile(job.input).iter_batches(batch_size=job.chunk_size)):
        frame = batch.to_pandas()
        yield Chunk(index, frame, np.arange(first, first + len(frame)))
        first += len(frame)


# -- planning: where each chunk lies, so that workers read their own ----------------------------------

@dataclass(frozen=True)
class Slice:
    """Where chunk ``index`` lies in the input, for a worker to read it by itself.

    ``start``, ``end``: bytes ``[start, end)`` of a CSV or JSONL input, rows ``[start, end)`` of a Parquet
    one. ``first``: the row number of the chunk's first record (CSV, Parquet) or line (JSONL). ``rows``: the
    records it holds (CSV, Parquet) or its lines that are not blank (JSONL), checked when it is read.
    """

    index: int
    start: int
    end: int
    first: int
    rows: int


@dataclass(frozen=True)
class Plan:
    """The chunks of an input as :class:`Slice` s, or ``slices is None`` (with the ``reason``) when the input
    must be read in order, by one process (:func:`read_chunks`). ``columns``: a CSV's header as pandas reads
    it, for workers that parse a slice without it."""

    slices: list[Slice] | None
    columns: tuple[str, ...] = ()
    reason: str = ""


class SliceError(DataError):
    """A slice does not read as its plan says: the input is malformed there (:func:`run` then reads it in
    order to report the row, exactly as a sequential read does)."""


_BLOCK = 1 << 22  # bytes scanned at a time: memory stays flat however large the input
_QUOTE, _COMMA, _LF, _CR = 34, 44, 10, 13
_CSV_CONTENT = np.ones(256, dtype=bool)  # bytes that make a line content for pandas (a line without is skipped)
_CSV_CONTENT[[9, 10, 13, 32]] = False
_TEXT = np.zeros(256, dtype=bool)  # ASCII bytes that are not white space for str.strip()
_TEXT[:128] = True
_TEXT[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = False
_HIGH = np.arange(256) >= 128  # bytes of non-ASCII characters (white space for str.strip(), some of them)


def plan(job: BatchJob) -> Plan:
    """Where each chunk of ``job.input`` lies: the same chunks, row numbers and bad lines as
    :func:`read_chunks`, found by a streaming byte scan (CSV, JSONL) or from the footer (Parquet)."""
    if job.input_format == "xlsx":
        return Plan(None, reason="it is a spreadsheet (XLSX), which is read from its start")
    if job.header_row:
        return Plan(None, reason=f"its header is on line {job.header_row + 1}, below a block of other rows")
    planners = {"csv": _csv_plan, "jsonl": _jsonl_plan, "parquet": _parquet_plan}
    return planners[job.input_format](job)


def _slices(bounds: list[int], size: int, records: int, chunk_size: int) -> list[Slice]:
    """Slices from chunk start offsets ``bounds`` (one per chunk) of an input of ``size`` bytes or rows."""
    return [Slice(k, start, bounds[k + 1] if k + 1 < len(bounds) else size, k * chunk_size + 1,
                  min(chunk_size, records - k * chunk_size)) for k, start in enumerate(bounds)]


def _csv_plan(job: BatchJob) -> Plan:
    """Record boundaries of a CSV file: a line feed ends a record only outside quotes (RFC 4180; a doubled
    quote keeps the parity) and on a line that is not blank (pandas skips those). Quoting that pandas reads
    otherwise (a quote inside an unquoted field, after a closing quote, or never closed) and lone carriage
    returns (line ends for pandas) make the plan give up: the input is then read in order, as always."""
    size = job.input.stat().st_size
    chunk_size = job.chunk_size
    bounds: list[int] = []  # after the header, then after every chunk_size-th record
    records = 0  # records ended so far, the header included
    inside = 0  # quote parity before the block
    prev = _LF  # the byte before the block (the file's start counts as a line start)
    content = False  # the current line has content before the block
    check_next = 0  # the block ended with a closing quote (1) or carriage return (2): the next byte decides
    with open(job.input, "rb") as handle:
        offset = 3 if handle.read(3) == b"\xef\xbb\xbf" else 0
        handle.seek(offset)
        while block := handle.read(_BLOCK):
            b = np.frombuffer(block, dtype=np.uint8)
            if check_next == 1 and b[0] not in (_COMMA, _LF, _CR, _QUOTE) or check_next == 2 and b[0] != _LF:
                return Plan(None, reason=_CSV_IN_ORDER)
            quotes = np.flatnonzero(b == _QUOTE)
            parity = (inside + np.arange(quotes.size)) & 1  # before each quote
            if quotes.size:
                before = np.where(quotes > 0, b[quotes - 1], prev)
                after = b[np.minimum(quotes + 1, b.size - 1)]
                opening, closing = parity == 0, parity == 1
                last = quotes == b.size - 1
                if (opening & ~np.isin(before, (_COMMA, _LF, _QUOTE))).any() or \
                        (closing & ~last & ~np.isin(after, (_COMMA, _LF, _CR, _QUOTE))).any():
                    return Plan(None, reason=_CSV_IN_ORDER)
            inside_at = lambda positions: (inside + np.searchsorted(quotes, positions)) & 1  # noqa: E731
            returns = np.flatnonzero(b == _CR)
            if returns.size:
                lone = returns[inside_at(returns) == 0]
                lone = lone[(lone == b.size - 1) | (b[np.minimum(lone + 1, b.size - 1)] != _LF)]
                if (lone < b.size - 1).any():
                    return Plan(None, reason=_CSV_IN_ORDER)
            feeds = np.flatnonzero(b == _LF)
            feeds = feeds[inside_at(feeds) == 0]  # the line feeds that end a line
            if feeds.size:
                starts = np.concatenate(([0], feeds[:-1] + 1))
                lines = _ends_with(b, feeds, starts, _CSV_CONTENT)
                for i in np.flatnonzero(~lines).tolist():  # blank, or ending in white space: look closer
                    lines[i] = bool(_CSV_CONTENT[b[starts[i]:feeds[i]]].any())
                lines[0] |= content
                ends = feeds[lines] + offset + 1
                numbers = np.arange(records + 1, records + 1 + ends.size)
                bounds += ends[(numbers - 1) % chunk_size == 0].tolist()
                records += ends.size
                content = bool(_CSV_CONTENT[b[feeds[-1] + 1:]].any())
            else:
                content = content or bool(_CSV_CONTENT[b].any())
            inside = int(inside + quotes.size) & 1
            check_next = 1 if quotes.size and quotes[-1] == b.size - 1 and parity[-1] == 1 else \
                2 if b[-1] == _CR and inside == 0 else 0
            prev = int(b[-1])
            offset += b.size
    if check_next == 2 or inside:
        return Plan(None, reason=_CSV_IN_ORDER)
    if content:
        records += 1
        if (records - 1) % chunk_size == 0:
            bounds.append(size)
    if not records:
        return Plan(None, reason="it has no header")
    data = records - 1
    try:  # the header as pandas names its columns; a first row longer than it makes an index of pandas'
        head = pd.read_csv(job.input, nrows=1, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError):
        return Plan(None, reason=_CSV_IN_ORDER)
    if not isinstance(head.index, pd.RangeIndex):
        return Plan(None, reason="its first row has more fields than its header")
    if data == 0:  # pandas reads one empty chunk
        return Plan([Slice(0, bounds[0], size, 1, 0)], tuple(map(str, head.columns)))
    return Plan(_slices(bounds[: math.ceil(data / chunk_size)], size, data, chunk_size),
                tuple(map(str, head.columns)))


def _ends_with(b: np.ndarray, feeds: np.ndarray, starts: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Whether each line (``starts`` to its line feed at ``feeds``, a carriage return before it aside) ends in a
    byte that ``wanted`` marks: the quick test, true for almost every line that has content."""
    last = np.maximum(feeds - 1, 0)
    before = np.maximum(feeds - 2, 0)
    return (feeds > starts) & wanted[b[last]] | \
        (feeds - 1 > starts) & (b[last] == _CR) & wanted[b[before]]


_CSV_IN_ORDER = ("its quoting or line ends are not plain RFC 4180 (a quote inside an unquoted field or after a "
                 "closing quote, a quote never closed, or a lone carriage return)")


def _jsonl_plan(job: BatchJob) -> Plan:
    """Chunk boundaries of a JSON lines file: every ``chunk_size`` lines that are not blank (as
    :func:`_jsonl_chunks` counts them: bad lines count too). Lone carriage returns (line ends when read as
    text) make the plan give up: the input is then read in order."""
    size = job.input.stat().st_size
    chunk_size = job.chunk_size
    bounds: list[int] = []  # where each chunk starts
    firsts: list[int] = []  # the line number of its first line
    lines = nonblank = 0  # lines ended so far; those not blank
    text = high = False  # the current line has, so far, a byte that is ASCII but not white space / not ASCII
    start = offset = 0  # where the current line starts; where the block starts
    check_next = False  # the block ended with a carriage return
    with open(job.input, "rb") as handle, open(job.input, "rb") as lookup:
        def blank(line_start: int, line_end: int) -> bool:  # only for lines of white space and non-ASCII
            lookup.seek(line_start)
            return not lookup.read(line_end - line_start).decode("utf-8", errors="replace").strip()

        while block := handle.read(_BLOCK):
            b = np.frombuffer(block, dtype=np.uint8)
            returns = np.flatnonzero(b[:-1] == _CR)
            if check_next and b[0] != _LF or returns.size and (b[returns + 1] != _LF).any():
                return Plan(None, reason=_JSONL_IN_ORDER)
            check_next = bool(b[-1] == _CR)
            feeds = np.flatnonzero(b == _LF)
            if feeds.size:
                starts = np.concatenate(([0], feeds[:-1] + 1))
                filled = _ends_with(b, feeds, starts, _TEXT)
                for i in np.flatnonzero(~filled).tolist():  # blank, or ending in white space: look closer
                    part = b[starts[i]:feeds[i]]
                    has_text, has_high = bool(_TEXT[part].any()), bool(_HIGH[part].any())
                    if i == 0:
                        has_text, has_high = has_text or text, has_high or high
                    filled[i] = has_text or has_high and not blank(start if i == 0 else offset + int(starts[i]),
                                                                   offset + int(feeds[i]) + 1)
                numbers = nonblank + np.cumsum(filled) - 1  # among the lines that are not blank, from 0
                opens = filled & (numbers % chunk_size == 0)
                bounds += np.where(np.arange(feeds.size) == 0, start, offset + starts)[opens].tolist()
                firsts += (lines + 1 + np.flatnonzero(opens)).tolist()
                nonblank += int(filled.sum())
                lines += feeds.size
                start = offset + int(feeds[-1]) + 1
                tail = b[feeds[-1] + 1:]
                text, high = bool(_TEXT[tail].any()), bool(_HIGH[tail].any())
            else:
                text, high = text or bool(_TEXT[b].any()), high or bool(_HIGH[b].any())
            offset += b.size
        if check_next:
            return Plan(None, reason=_JSONL_IN_ORDER)
        if offset > start and (text or high and not blank(start, offset)):  # a last line without a line end
            if nonblank % chunk_size == 0:
                bounds.append(start)
                firsts.append(lines + 1)
            nonblank += 1
    return Plan([Slice(k, bounds[k], bounds[k + 1] if k + 1 < len(bounds) else size, firsts[k],
                       min(chunk_size, nonblank - k * chunk_size)) for k in range(len(bounds))])


_JSONL_IN_ORDER = "it has lone carriage returns (line ends when read as text)"


def _parquet_plan(job: BatchJob) -> Plan:
    """Row ranges of ``chunk_size`` rows, as ``iter_batches`` makes them (across row groups). Dictionary
    (categorical) columns are read in order: their categories depend on how the rows were batched."""
    parquet = pq.ParquetFile(job.input)
    if any(pa.types.is_dictionary(t) for t in parquet.schema_arrow.types):
        return Plan(None, reason="it has dictionary (categorical) columns")
    rows = parquet.metadata.num_rows
    return Plan(_slices(list(range(0, rows, job.chunk_size)), rows, rows, job.chunk_size))


def read_slice(job: BatchJob, piece: Slice, columns: tuple[str, ...] = ()) -> Chunk:
    """Chunk ``piece.index`` of the input, read by itself: what :func:`read_chunks` yields for it.
    :class:`SliceError` if it does not read as planned."""
    readers = {"csv": _csv_slice, "jsonl": _jsonl_slice, "parquet": _parquet_slice}
    chunk = readers[job.input_format](job, piece, columns)
    found = len(chunk.frame) + len(chunk.problems)
    if found != piece.rows:
        raise SliceError(f"chunk {piece.index} should hold {piece.rows} rows from row {piece.first} on, "
                         f"but {found} were read.", path=str(job.input))
    return chunk


def _read_bytes(path: Path, start: int, end: int) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(start)
        return handle.read(end - start)


def _csv_slice(job: BatchJob, piece: Slice, columns: tuple[str, ...]) -> Chunk:
    rows = np.arange(piece.first, piece.first + piece.rows)
    if not piece.rows:
        return Chunk(piece.index, pd.DataFrame(columns=list(columns)).astype(str), rows)
    try:
        frame = pd.read_csv(io.BytesIO(_read_bytes(job.input, piece.start, piece.end)), header=None,
                            names=list(columns), dtype=str, keep_default_na=False, encoding="utf-8")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise SliceError(f"chunk {piece.index} cannot be read as CSV: {_first_line(exc)}",
                         path=str(job.input)) from None
    if not isinstance(frame.index, pd.RangeIndex):  # a first row longer than the header
        raise SliceError(f"row {piece.first} has more fields than the header.", path=str(job.input))
    return Chunk(piece.index, frame, rows)


def _jsonl_slice(job: BatchJob, piece: Slice, columns: tuple[str, ...]) -> Chunk:
    text = io.TextIOWrapper(io.BytesIO(_read_bytes(job.input, piece.start, piece.end)), encoding="utf-8",
                            errors="replace")
    records: list[dict] = []
    rows: list[int] = []
    problems: list[tuple[int, str, str, str]] = []
    for number, line in enumerate(text, piece.first):
        _jsonl_line(number, line, records, rows, problems)
    return Chunk(piece.index, pd.DataFrame.from_records(records), np.asarray(rows, dtype=np.int64), problems)


def _parquet_slice(job: BatchJob, piece: Slice, columns: tuple[str, ...]) -> Chunk:
    parquet = pq.ParquetFile(job.input)
    starts = np.cumsum([0] + [parquet.metadata.row_group(g).num_rows
                              for g in range(parquet.metadata.num_row_groups)])
    first_group = int(np.searchsorted(starts, piece.start, side="right")) - 1
    last_group = int(np.searchsorted(starts, piece.end, side="left")) - 1
    at, pieces = int(starts[first_group]), []
    # Batches from the start of the row group that holds the first row: rows before it are decoded, not
    # converted. Where they line up with the chunk (always, when row groups hold whole chunks), the one
    # batch is the chunk, as iter_batches over the whole file makes it.
    for batch in parquet.iter_batches(batch_size=job.chunk_size, row_groups=range(first_group, last_group + 1)):
        low, high = max(piece.start, at), min(piece.end, at + len(batch))
        if high > low:
            pieces.append(batch if (low, high) == (at, at + len(batch)) else batch.slice(low - at, high - low))
        at += len(batch)
        if at >= piece.end:
            break
    frame = pieces[0].to_pandas() if len(pieces) == 1 else \
        pa.Table.from_batches(pieces, parquet.schema_arrow).to_pandas()
    return Chunk(piece.index, frame, np.arange(piece.first, piece.first + len(frame)))

# -- classifying (in a worker) ------------------------------------------------------------------------

_local = threading.local()


def suggester_for(models_dir: str | Path, deployment: str, version: str, rows: int = 0) -> Suggester:
    """The worker's :class:`Suggester` for this model, loaded on first use and kept (one per thread).

    Kept across chunks, the model's per-word caches make later chunks faster than the first. They grow with
    the vocabulary, though, and a long backlog's vocabulary keeps growing (names, typos): after
    :data:`CACHE_ROWS` rows (``rows`` counts the rows about to be classified) the caches start afresh, so a
    worker's memory is bounded however long the input.
    """
    state = _local.__dict__.setdefault("suggesters", {})
    key = (str(models_dir), str(deployment), version)
    if key not in state:
        state.clear()  # one model per worker: a new version replaces the old
        state[key] = [Suggester.from_registry(models_dir, deployment, version), 0]
    entry = state[key]
    entry[1] += rows
    if entry[1] > CACHE_ROWS:
        model = entry[0].model
        model.features_ = pickle.loads(pickle.dumps(model.features_))  # caches are never pickled: clean copy
        entry[1] = rows
    return entry[0]


def classify(job: BatchJob, chunk: Chunk, suggester: Suggester) -> tuple[pd.DataFrame, list[tuple]]:
    """The chunk's good rows with their suggestion columns, and its bad rows as error records."""
    frame = chunk.frame
    problems = list(chunk.problems)
    if len(frame):
        texts = frame[job.text_column].tolist() if job.text_column in frame else [None] * len(frame)
        ids = frame[job.id_column].tolist() if job.id_column in frame else [None] * len(frame)
    else:
        texts, ids = [], []
    keep = np.ones(len(frame), dtype=bool)
    for i, (text, id_) in enumerate(zip(texts, ids)):
        reason = text_problem(text)
        if reason is None and (id_ is None or _blank(id_)):
            reason = "id is missing"
        if reason is not None:
            keep[i] = False
            problems.append((int(chunk.rows[i]), _cell(id_), reason, _cell(text)))
    good = frame.loc[keep].reset_index(drop=True) if not keep.all() else frame
    if len(good):
        columns = suggester.suggest_columns(good[job.text_column].tolist())
        added = {}
        for head in HEADS:
            added[f"suggested_{head}"] = columns[head].astype(str)
            added[f"{head}_confidence"] = columns[f"{head}_confidence"].astype(np.float64)
            added[f"{head}_needs_review"] = columns[f"{head}_needs_review"].astype(bool)
        added["needs_review"] = columns["needs_review"].astype(bool)
        added["model_version"] = np.full(len(good), suggester.version, dtype=object)
        if job.lapor:
            added.update(lapor.output_columns(added["suggested_opd"].tolist(),
                                              good[lapor.BODY].tolist() if lapor.BODY in good else None,
                                              suggester.taxonomy))
        good = pd.concat([good, pd.DataFrame(added, index=good.index)], axis=1)
    problems.sort()
    return good, problems


def _arrivals(frame: pd.DataFrame, channel_column: str | None, received_column: str | None,
              result: QueueResult) -> tuple[list[str | None], list[Any]]:
    """Channel and receipt time of each row, from the columns named (when the output has them); unknown
    channels and dates that cannot be read are left empty and counted in ``result``."""
    from triage.db import CHANNELS

    channels: list[str | None] = [None] * len(frame)
    if channel_column and channel_column in frame:
        channels = [None if _blank(c) else str(c).strip().lower() for c in frame[channel_column]]
        unknown = [c is not None and c not in CHANNELS for c in channels]
        result.unknown_channels += sum(unknown)
        channels = [None if bad else c for c, bad in zip(channels, unknown)]
    received: list[Any] = [None] * len(frame)
    if received_column and received_column in frame:
        values = frame[received_column].astype(object).where(frame[received_column].notna(), None)
        parsed = pd.to_datetime(values, errors="coerce", utc=True, format="mixed")
        result.unreadable_dates += int((parsed.isna() & values.notna() & values.map(lambda v: not _blank(v))).sum())
        received = [None if pd.isna(t) else t.to_pydatetime() for t in parsed]
    return channels, received


def _lapor_arrivals(job: BatchJob, frame: pd.DataFrame, ids: list[str],
                    result: QueueResult) -> tuple[list[str | None], list[Any]]:
    """Channel (``lapor``) and receipt time of each report of a LAPOR! export; dates that cannot be read are
    counted, and the first few named (Tracking ID, column, value), in ``result``."""
    days = frame[lapor.DATE].tolist() if lapor.DATE in frame else [None] * len(frame)
    clocks = frame[lapor.TIME].tolist() if lapor.TIME in frame else [None] * len(frame)
    received = []
    for id_, day, clock in zip(ids, days, clocks):
        moment = lapor.received_at(day, clock)
        if moment is None and not _blank(day):
            result.unreadable_dates += 1
            if len(result.examples) < 3:
                result.examples.append(f"{job.id_column} {id_}, column '{lapor.DATE}': {_cell(day)!r} is not a "
                                       "date")
        received.append(moment)
    return [lapor.CHANNEL] * len(frame), received


def _cell(value: object) -> str:
    """``value`` as the errors file shows it: missing values as empty cells."""
    return "" if value is None or isinstance(value, float) and math.isnan(value) else str(value)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or \
        (isinstance(value, str) and not value.strip())


# -- parts --------------------------------------------------------------------------------------------

def _part(job: BatchJob, index: int, kind: str) -> Path:
    suffix = {"data": f".{job.part_format}", "errors": ".errors.csv", "done": ".done.json"}[kind]
    return job.parts_dir / f"part-{index:06d}{suffix}"


def write_part(job: BatchJob, index: int, good: pd.DataFrame, problems: list[tuple]) -> dict:
    """Write chunk ``index``'s parts, each under a temporary name renamed when complete; done marker last."""
    marker = {"index": index, "rows": len(good) + len(problems), "classified": len(good),
              "bad": len(problems),
              "needs_review": int(good["needs_review"].sum()) if len(good) else 0,
              "columns": [str(c) for c in good.columns] if len(good) else []}
    if len(good):
        _atomic(_part(job, index, "data"), lambda tmp: write_frame(good, tmp, job.part_format))
    if problems:
        errors = pd.DataFrame(problems, columns=list(ERROR_COLUMNS))
        _atomic(_part(job, index, "errors"), lambda tmp: errors.to_csv(tmp, index=False, header=False))
    _atomic(_part(job, index, "done"), lambda tmp: tmp.write_text(json.dumps(marker)))
    return marker


def write_frame(frame: pd.DataFrame, path: Path, fmt: str) -> None:
    """Write ``frame`` to ``path`` as ``fmt``: CSV with header (Arrow's writer: strings quoted, booleans as
    true/false, several times faster than pandas'), JSON lines, or Parquet."""
    if fmt == "jsonl":
        plain = frame.astype(object).where(frame.notna(), None)
        with open(path, "w", encoding="utf-8") as handle:
            for record in plain.to_dict("records"):
                handle.write(json.dumps(record, ensure_ascii=False, default=str))
                handle.write("\n")
    elif fmt == "csv":
        pa_csv.write_csv(_arrow(frame), path, pa_csv.WriteOptions(quoting_style="needed"))
    else:
        pq.write_table(_arrow(frame), path)


def _arrow(frame: pd.DataFrame) -> pa.Table:
    """``frame`` as an Arrow table; columns of mixed or nested JSON values (from JSONL) become JSON text."""
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if all(not pa.types.is_nested(t) for t in table.schema.types):
            return table
    except pa.ArrowException:
        pass
    plain = frame.copy()
    for column in plain.columns:
        if plain[column].dtype == object:
            plain[column] = [v if v is None or isinstance(v, str) or isinstance(v, float) and math.isnan(v)
                             else json.dumps(v, ensure_ascii=False, default=str) for v in plain[column]]
    return pa.Table.from_pandas(plain, preserve_index=False)


def _csv_header(columns: list[str]) -> bytes:
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(pa.table({c: pa.array([], pa.string()) for c in columns}), sink,
                     pa_csv.WriteOptions(quoting_style="needed"))
    return sink.getvalue().to_pybytes()


def _atomic(path: Path, write: Callable[[Path], object]) -> None:
    # unique even among the machines of a cluster writing to one shared parts folder
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}-{threading.get_ident()}-{os.urandom(4).hex()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _manifest(job: BatchJob) -> dict:
    stat = job.input.stat()
    digest = hashlib.sha256()
    with open(job.input, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    model = ModelRegistry(job.models_dir).info(job.model_version).metadata.get("sha256")
    return {"input": str(job.input), "input_size": stat.st_size, "input_mtime_ns": stat.st_mtime_ns,
            "input_sha256": digest.hexdigest(), "model_version": job.model_version, "model_sha256": model,
            **{k: str(v) for k, v in asdict(job).items() if k not in ("input", "output", "model_version")}}


def _open_parts(job: BatchJob, restart: bool) -> dict[int, dict]:
    """Create or reopen the parts folder; the done markers of chunks finished earlier, by chunk index."""
    manifest = _manifest(job)
    path = job.parts_dir / _MANIFEST
    if job.parts_dir.exists() and not restart:
        try:
            earlier = json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            earlier = None
        if earlier != manifest:
            changed = "no readable manifest" if earlier is None else ", ".join(
                f"{k} was {earlier.get(k)!r}, now {v!r}" for k, v in manifest.items() if earlier.get(k) != v)
            raise ConflictError(f"{job.parts_dir} holds an unfinished job that does not match this one "
                                f"({changed}). Rerun with --restart to discard it, or write to another "
                                "output.")
    else:
        shutil.rmtree(job.parts_dir, ignore_errors=True)
        job.parts_dir.mkdir(parents=True)
        _atomic(path, lambda tmp: tmp.write_text(json.dumps(manifest, indent=2)))
    return {m["index"]: m for m in _markers(job)}


def _markers(job: BatchJob) -> list[dict]:
    return sorted((json.loads(p.read_text()) for p in job.parts_dir.glob("part-*.done.json")),
                  key=lambda m: m["index"])


def _assemble(job: BatchJob, markers: list[dict]) -> None:
    """Concatenate the parts into the output and the errors file, each replaced in one rename."""
    columns: list[str] = []
    for marker in markers:
        columns += [c for c in marker["columns"] if c not in columns]
    if not columns:  # nothing classified: the output still has the columns it would have had
        columns = read_columns(job.input, job.input_format, job.header_row) + list(job.added_columns)
    data = [(m, _part(job, m["index"], "data")) for m in markers if m["classified"]]
    _atomic(job.output, lambda tmp: _concatenate(job.output_format, data, columns, tmp))
    errors = [_part(job, m["index"], "errors") for m in markers if m["bad"]]
    if errors:
        def concatenate_errors(tmp: Path) -> None:
            with open(tmp, "wb") as out:
                out.write((",".join(ERROR_COLUMNS) + "\n").encode())
                for part in errors:
                    with open(part, "rb") as handle:
                        shutil.copyfileobj(handle, out)
        _atomic(job.errors_path, concatenate_errors)
    else:
        job.errors_path.unlink(missing_ok=True)  # a stale one from an earlier run of this output


def _concatenate(fmt: str, parts: list[tuple[dict, Path]], columns: list[str], tmp: Path) -> None:
    if fmt == "xlsx":
        _write_xlsx(parts, columns, tmp)
        return
    if fmt == "parquet":
        tables = [pq.read_schema(p) for _, p in parts]
        schema = pa.unify_schemas(tables, promote_options="permissive") if tables else None
        if schema is None:
            write_frame(pd.DataFrame(columns=columns), tmp, fmt)
            return
        schema = pa.schema([schema.field(c) for c in columns])
        with pq.ParquetWriter(tmp, schema) as writer:
            for _, part in parts:
                table = pq.read_table(part)
                for name in columns:
                    if name not in table.column_names:
                        table = table.append_column(name, pa.nulls(len(table), schema.field(name).type))
                writer.write_table(table.select(columns).cast(schema))
        return
    with open(tmp, "wb") as out:
        if fmt == "csv":
            out.write(_csv_header(columns))
        for marker, part in parts:
            if fmt == "csv" and marker["columns"] != columns:  # JSONL records with other keys: align them
                frame = pd.read_csv(part, dtype=str, keep_default_na=False).reindex(columns=columns)
                pa_csv.write_csv(_arrow(frame), out, pa_csv.WriteOptions(quoting_style="needed",
                                                                       include_header=False))
                continue
            with open(part, "rb") as handle:
                if fmt == "csv":
                    handle.readline()  # the part's header (column names never hold line breaks here)
                shutil.copyfileobj(handle, out, 1 << 20)


def _write_xlsx(parts: list[tuple[dict, Path]], columns: list[str], path: Path) -> None:
    """The Parquet parts as one XLSX sheet, streamed (openpyxl's write-only mode). Characters a spreadsheet
    cannot hold (control characters) are dropped from text cells."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Hasil Triage")
    sheet.append(columns)
    for _, part in parts:
        for batch in pq.ParquetFile(part).iter_batches(batch_size=2000):
            frame = batch.to_pandas().reindex(columns=columns)
            for record in frame.itertuples(index=False, name=None):
                sheet.append([None if v is None or isinstance(v, float) and math.isnan(v) else
                              ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else
                              v.item() if isinstance(v, np.generic) else v for v in record])
    workbook.save(path)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


# -- engines ------------------------------------------------------------------------------------------

class _Runner:
    """How chunks are executed: ``submit`` a chunk read here or ``submit_slice`` one the worker reads,
    ``wait_some`` for finished ones, ``finish`` one (its done marker)."""

    capacity = 1

    def __enter__(self) -> _Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class _InProcessRunner(_Runner):
    """One process, no pool: nothing to start."""

    def __init__(self, job: BatchJob) -> None:
        self.job = job

    def submit(self, chunk: Chunk) -> Future:
        return self._now(_run_chunk, self.job, chunk)

    def submit_slice(self, piece: Slice, columns: tuple[str, ...]) -> Future:
        return self._now(_run_slice, self.job, piece, columns)

    @staticmethod
    def _now(function: Callable[..., dict], *args: object) -> Future:
        future: Future = Future()
        try:
            future.set_result(function(*args))
        except SliceError as exc:
            future.set_exception(exc)
        return future

    def wait_some(self, futures: list) -> list:
        return futures

    def finish(self, future: Future, index: int) -> dict:
        return future.result()


def _run_chunk(job: BatchJob, chunk: Chunk) -> dict:
    suggester = suggester_for(job.models_dir, job.deployment, job.model_version, len(chunk.frame))
    good, problems = classify(job, chunk, suggester)
    return write_part(job, chunk.index, good, problems)


def _run_slice(job: BatchJob, piece: Slice, columns: tuple[str, ...]) -> dict:
    """In a worker: read chunk ``piece.index`` from the input, classify it and write its parts."""
    return _run_chunk(job, read_slice(job, piece, columns))


def _start_worker(job: BatchJob) -> None:
    # Ctrl-C is the parent's to handle: it stops submitting, the chunks under way still finish their parts.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    suggester_for(job.models_dir, job.deployment, job.model_version)


class _PoolRunner(_Runner):
    """``jobs`` worker processes, each with the model loaded once, reading their chunks and writing their
    parts."""

    def __init__(self, job: BatchJob, jobs: int) -> None:
        self.job = job
        self.capacity = 2 * jobs  # chunks in flight: enough to keep workers busy, few enough for flat memory
        # fork where there is one: the model is loaded (and checked) here, once, and the workers start with it
        # and everything else imported, in a fraction of a second, sharing its pages. CPython forks them all
        # before the pool's own thread starts. Elsewhere (or with other threads running) each worker starts
        # afresh and loads the model.
        fork = "fork" in mp.get_all_start_methods() and threading.active_count() == 1  # threads: not safe
        if fork:
            suggester_for(job.models_dir, job.deployment, job.model_version)
        context = mp.get_context("fork" if fork else "spawn")
        self.pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_worker, initargs=(job,))
        if fork and os.environ.get("TRIAGE_NOFREEZE") is None:
            gc.freeze()  # the garbage collector would otherwise touch, and so copy, every shared page
        self.pool.submit(int)  # start the workers now (with fork, all of them, here)
        if fork:
            gc.unfreeze()

    def submit(self, chunk: Chunk) -> Future:
        return self.pool.submit(_run_chunk, self.job, chunk)

    def submit_slice(self, piece: Slice, columns: tuple[str, ...]) -> Future:
        return self.pool.submit(_run_slice, self.job, piece, columns)

    def wait_some(self, futures: list) -> list:
        return list(wait(futures, return_when=FIRST_COMPLETED).done)

    def finish(self, future: Future, index: int) -> dict:
        return future.result()

    def __exit__(self, *exc: object) -> None:
        self.pool.shutdown(wait=exc[0] is None, cancel_futures=True)


# -- the review queue ---------------------------------------------------------------------------------

@dataclass
class QueueResult:
    """What :func:`enqueue` did."""

    created: int = 0
    skipped: int = 0
    unknown_channels: int = 0
    unreadable_dates: int = 0
    archived: int = 0
    """Reports of a LAPOR! export that LAPOR! archived: not queued."""
    examples: list[str] = field(default_factory=list)
    """The first few rows stored without a value they had (which row, which column, what it held)."""


def enqueue(job: BatchJob, database_url: str, *, channel_column: str | None = "channel",
            received_column: str | None = "received", deadlines: Deadlines | None = None,
            progress: Progress | None = None) -> QueueResult:
    """Load a finished job's output into the history database as pending complaints with their suggestions.

    Idempotent on the id column (stored as ``external_id``): rows stored already are skipped. The suggestion
    of each row is made again in full (alternatives and explanation, as the API stores it) by the same model
    version, and checked against the output's codes. ``channel_column`` and ``received_column`` are used when
    the output has them; an unknown channel or an unreadable date is left empty (and counted). An
    SP4N-LAPOR! export's reports (``job.lapor``) come through the ``lapor`` channel, received at their
    ``Tanggal``/``Waktu Laporan Masuk``; those LAPOR! archived are not queued (:mod:`triage.lapor`).
    ``deadlines``: the deployment's (:meth:`Deadlines.from_settings`), which count each complaint's route
    deadline as the app does (default: national holidays only). Run :func:`triage.db.upgrade` on
    ``database_url`` first.
    """
    from triage.complaints import NewComplaint, enqueue_complaints
    from triage.db import make_engine, make_sessions

    suggester = suggester_for(job.models_dir, job.deployment, job.model_version)
    source = BatchJob(input=job.output, output=job.output, input_format=job.output_format,
                      output_format=job.output_format, text_column=job.text_column, id_column=job.id_column,
                      chunk_size=min(job.chunk_size, 2000))
    result = QueueResult()
    engine = make_engine(database_url)
    try:
        sessions = make_sessions(engine)
        if deadlines is not None:
            install(sessions, deadlines)
        with sessions() as session:
            for chunk in read_chunks(source):
                frame = chunk.frame
                if not len(frame):
                    continue
                texts = frame[job.text_column].tolist()
                suggestions = suggester.suggest_many(texts, explain=True)
                for head in HEADS:
                    made = [s.head(head).code for s in suggestions]
                    if made != frame[f"suggested_{head}"].astype(str).tolist():
                        raise ConflictError(f"{job.output}: the {head} codes differ from model "
                                            f"{suggester.version}'s; the output was changed after the job. "
                                            "Run the job again before --to-queue.")
                ids = [_cell(i) for i in frame[job.id_column].tolist()]
                if job.lapor:
                    channels, received = _lapor_arrivals(job, frame, ids, result)
                else:
                    channels, received = _arrivals(frame, channel_column, received_column, result)
                keep = [not lapor.archived(v) for v in frame[lapor.STATUS]] \
                    if job.lapor and lapor.STATUS in frame else [True] * len(frame)
                result.archived += keep.count(False)
                rows = [(NewComplaint(text=t, external_id=i, channel=c, received_at=r), s)
                        for t, i, c, r, s, k in zip(texts, ids, channels, received, suggestions, keep) if k]
                done = enqueue_complaints(session, rows)
                result.created += len(done.created)
                result.skipped += done.skipped
                if progress:
                    progress(len(frame))
    finally:
        engine.dispose()
    return result
